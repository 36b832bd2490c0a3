// `provision verify`: read the real disks and compare them with the plan.
// Exit 0 when everything matches, 1 with a per-item diff otherwise.
import { parseArgs } from 'node:util';
import { createCtx } from '../core/context.js';
import { resolvePlan } from '../partition/load-plan.js';
import { formatDiff } from '../verify/compare.js';
import { verifyPlan } from '../verify/verify.js';
import { usageError } from './plan.js';
import type { Command } from './types.js';

const USAGE =
  'usage: provision verify [--input FILE (default /tmp/provision.json)] [--inventory FILE] [--plan PLAN.json] [--before-images] [--json]';

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        input: { type: 'string' },
        inventory: { type: 'string' },
        plan: { type: 'string' },
        json: { type: 'boolean' },
        'before-images': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw usageError(e, USAGE);
  }
}

export const command: Command = {
  name: 'verify',
  summary:
    'Compare what is on the disks (partition offsets/sizes/types, RAID, LVM, filesystems and labels) with the plan. ' +
    '--before-images skips filesystems an image will fill.',
  usage: USAGE,
  async run(args, io) {
    const v = parse(args);
    const ctx = createCtx();
    const { plan } = await resolvePlan(ctx, v);
    const result = await verifyPlan(ctx, plan, { skipImageFilesystems: v['before-images'] === true });
    if (v.json) io.out(JSON.stringify(result, null, 2));
    else if (result.ok) io.out(`verify: ${result.items.length} items match the plan`);
    else io.out(`verify: ${result.items.filter((i) => !i.ok).length} of ${result.items.length} items differ\n${formatDiff(result.items)}`);
    return result.ok ? 0 : 1;
  },
};
