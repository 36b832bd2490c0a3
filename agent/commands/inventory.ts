// `provision inventory`: the node's block devices as JSON, the shape `provision
// plan --inventory` reads back.
import { createCtx } from '../core/context.js';
import { discoverInventory } from '../inventory/discover.js';
import { parseArgs } from 'node:util';
import { usageError } from './plan.js';
import type { Command } from './types.js';

const USAGE = 'usage: provision inventory';

export const command: Command = {
  name: 'inventory',
  summary: 'Discover the block devices (lsblk + udev: links, serial, WWN, sizes, sector sizes, flags) and print them as JSON.',
  usage: USAGE,
  async run(args, io) {
    try {
      parseArgs({ args, options: {}, strict: true, allowPositionals: false });
    } catch (e) {
      throw usageError(e, USAGE);
    }
    const inventory = await discoverInventory(createCtx());
    io.out(JSON.stringify(inventory, null, 2));
    return 0;
  },
};
