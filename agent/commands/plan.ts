// `provision plan`: validate the provision data, read the disks (or an inventory
// file) and print the plan. Nothing is executed. `--html FILE` also draws the
// disks as a standalone page, for checking a layout before a deploy.
import { writeFile } from 'node:fs/promises';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { checkInput } from '../run/check-input.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { buildPlan } from '../plan/build.js';
import { planHtmlPage } from '../plan/html.js';
import { planJson, renderPlan } from '../plan/render.js';
import { loadProvisionData } from '../schema/load.js';
import { defineOptions, inputOptions, jsonOption, optionCommand } from './options.js';

const options = defineOptions({
  ...inputOptions,
  ...jsonOption,
  html: { type: 'string', arg: 'FILE', help: 'also write the disks drawn (partitions, RAID, LVM, mounts) as a self-contained HTML page' },
});

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
    if (values.html) await writeHtml(values.html, planHtmlPage(plan, `provision plan: ${values.input}`));
    io.out(values.json ? planJson(plan) : renderPlan(plan));
    return 0;
  },
});

async function writeHtml(file: string, html: string): Promise<void> {
  try {
    await writeFile(file, html);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ForgeError('USAGE', `--html ${file}: cannot write: ${code ?? String(e)}`, { field: 'html', cause: e });
  }
}
