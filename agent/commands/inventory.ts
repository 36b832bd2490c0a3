// `provision inventory`: the node's block devices as JSON, the shape `provision
// plan --inventory` reads back.
import { createCtx } from '../core/context.js';
import { discoverInventory } from '../inventory/discover.js';
import { defineOptions, optionCommand } from './options.js';

const options = defineOptions({});

export const command = optionCommand({
  name: 'inventory',
  summary: 'Discover the block devices (lsblk + udev: links, serial, WWN, sizes, sector sizes, flags) and print them as JSON.',
  options,
  async run(_values, io, env) {
    const inventory = await discoverInventory(createCtx({ signal: env.signal }));
    io.out(JSON.stringify(inventory, null, 2));
    return 0;
  },
});
