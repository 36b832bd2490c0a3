// `provision plan`: validate the provision data, read the disks (or an inventory
// file) and print the plan. Nothing is executed.
import { createCtx } from '../core/context.js';
import { checkInput } from '../run/check-input.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { buildPlan } from '../plan/build.js';
import { planJson, renderPlan } from '../plan/render.js';
import { loadProvisionData } from '../schema/load.js';
import { defineOptions, inputOptions, jsonOption, optionCommand } from './options.js';

const options = defineOptions({ ...inputOptions, ...jsonOption });

export const command = optionCommand({
  name: 'plan',
  summary: 'Validate the provision data and print the full provisioning plan (partitions, RAID, LVM, filesystems, images, configdrive, bootloader) without touching any disk.',
  options,
  async run(values, io, env) {
    const data = await loadProvisionData(values.input);
    // The same whole-input checks as `provision run`: plan never says OK to data a run refuses.
    const ctx = createCtx({ signal: env.signal });
    await checkInput(ctx, data);
    let inventory: Inventory;
    if (values.inventory) inventory = await loadInventory(values.inventory);
    else inventory = await discoverInventory(ctx);
    const plan = buildPlan(data, inventory);
    io.out(values.json ? planJson(plan) : renderPlan(plan));
    return 0;
  },
});
