// `provision plan`: validate the provision data, read the disks (or an inventory
// file) and print the plan. Nothing is executed.
import { parseArgs } from 'node:util';
import { createCtx } from '../core/context.js';
import { checkInput } from '../run/check-input.js';
import { ForgeError } from '../core/errors.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { buildPlan } from '../plan/build.js';
import { planJson, renderPlan } from '../plan/render.js';
import { DEFAULT_INPUT, loadProvisionData } from '../schema/load.js';
import type { Command } from './types.js';

const USAGE = 'usage: provision plan [--input FILE (default /tmp/provision.json)] [--inventory FILE] [--json]';

/** node:util parseArgs errors are bad input: exit 2 with the usage, not a stack. */
export function usageError(e: unknown, usage: string): ForgeError {
  return new ForgeError('USAGE', `${e instanceof Error ? e.message : String(e)}\n${usage}`);
}

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: { input: { type: 'string' }, inventory: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw usageError(e, USAGE);
  }
}

export const command: Command = {
  name: 'plan',
  summary: 'Validate the provision data and print the full provisioning plan (partitions, RAID, LVM, filesystems, images, configdrive, bootloader) without touching any disk.',
  usage: USAGE,
  async run(args, io) {
    const values = parse(args);
    const data = await loadProvisionData(values.input ?? DEFAULT_INPUT);
    // The same whole-input checks as `provision run`: plan never says OK to data a run refuses.
    const ctx = createCtx();
    await checkInput(ctx, data);
    let inventory: Inventory;
    if (values.inventory) inventory = await loadInventory(values.inventory);
    else inventory = await discoverInventory(ctx);
    const plan = buildPlan(data, inventory);
    io.out(values.json ? planJson(plan) : renderPlan(plan));
    return 0;
  },
};
