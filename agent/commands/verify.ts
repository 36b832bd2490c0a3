// `provision verify`: read the real disks and compare them with the plan.
// Exit 0 when everything matches, 1 with a per-item diff otherwise.
import { createCtx } from '../core/context.js';
import { resolvePlan } from '../partition/load-plan.js';
import { formatDiff } from '../verify/compare.js';
import { verifyPlan } from '../verify/verify.js';
import { defineOptions, inputOptions, jsonOption, optionCommand, planOption } from './options.js';

const options = defineOptions({
  ...inputOptions,
  ...planOption,
  'before-images': { type: 'boolean', help: 'skip the filesystems an image will fill (check before the image step)' },
  ...jsonOption,
});

export const command = optionCommand({
  name: 'verify',
  summary:
    'Compare what is on the disks (partition offsets/sizes/types, RAID, LVM, filesystems and labels) with the plan. ' +
    '--before-images skips filesystems an image will fill.',
  options,
  async run(v, io, env) {
    const ctx = createCtx({ signal: env.signal });
    const { plan } = await resolvePlan(ctx, v);
    const result = await verifyPlan(ctx, plan, { skipImageFilesystems: v['before-images'] });
    if (v.json) io.out(JSON.stringify(result, null, 2));
    else if (result.ok) io.out(`verify: ${result.items.length} items match the plan`);
    else io.out(`verify: ${result.items.filter((i) => !i.ok).length} of ${result.items.length} items differ\n${formatDiff(result.items)}`);
    return result.ok ? 0 : 1;
  },
});
