// The real modules behind each step of the run (issue-owned modules wired here only).
import { installBootloader } from '../bootloader/install.js';
import { writeConfigDrive } from '../configdrive/write.js';
import { DEFAULT_FETCH } from '../image/types.js';
import { validateImages } from '../image/validate.js';
import { writeImages } from '../image/write-images.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import { executePartitioning } from '../partition/execute.js';
import { buildPlan } from '../plan/build.js';
import { loadProvisionData } from '../schema/load.js';
import { checkInput } from './check-input.js';
import type { Steps } from './provision-run.js';

export const defaultSteps: Steps = {
  loadData: (path) => loadProvisionData(path),
  // Renders the configdrive in memory and checks sudo rules: errors surface before any disk is touched.
  checkData: async (ctx, data, o) => {
    await checkInput(ctx, data, o.callbackUrl === undefined ? {} : { callbackUrl: o.callbackUrl });
  },
  inventory: (ctx, path) => (path ? loadInventory(path) : discoverInventory(ctx)),
  buildPlan: (data, inventory) => buildPlan(data, inventory),
  validateImages: (ctx, plan, o) =>
    validateImages(ctx, plan.images, { allowUnverified: o.allowUnverified ?? false, readMetadata: true, fetch: { ...DEFAULT_FETCH, ...o.fetch } }),
  partition: (ctx, plan, inventory) => executePartitioning(ctx, plan, inventory),
  images: async (ctx, plan, o, resolved) => {
    // A dry run has not created the target partitions; the images were validated in the plan step.
    if (ctx.dryRun) {
      for (const i of plan.images) ctx.log.info('image.dry_run', { uri: i.uri, device: i.targetDevice, format: i.format, container: i.container });
      return [];
    }
    // Resolved by the plan step: the metadata beside each image is not fetched a second time.
    return writeImages(ctx, plan, { allowUnverified: o.allowUnverified ?? false, resolved, ...(o.fetch ? { fetch: o.fetch } : {}) });
  },
  configdrive: (ctx, plan, data, o) =>
    writeConfigDrive(ctx, plan, data, {
      ...(o.callbackUrl === undefined ? {} : { callbackUrl: o.callbackUrl }),
      ...(o.configdriveFormat === undefined ? {} : { format: o.configdriveFormat }),
    }),
  bootloader: (ctx, plan) => installBootloader(ctx, plan),
};
