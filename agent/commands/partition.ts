// `provision partition`: re-check the disks, clean stale state, partition, RAID,
// LVM, filesystems. `--dry-run` probes the disks read-only and prints, in order,
// every command a real run would execute, executing none of them.
import { parseArgs } from 'node:util';
import { createCtx } from '../core/context.js';
import { formatArgv, RecordingRunner } from '../core/runner.js';
import { executePartitioning } from '../partition/execute.js';
import { resolvePlan } from '../partition/load-plan.js';
import { usageError } from './plan.js';
import type { Command } from './types.js';

const USAGE =
  'usage: provision partition [--input FILE (default /tmp/provision.json)] [--inventory FILE] [--plan PLAN.json] [--dry-run]';

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        input: { type: 'string' },
        inventory: { type: 'string' },
        plan: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw usageError(e, USAGE);
  }
}

export const command: Command = {
  name: 'partition',
  summary:
    'Partition the disks as planned: re-check them, clean stale LVM/MD/signatures (keep_data left alone), write GPT, ' +
    'create MD arrays, PVs, VGs, LVs and filesystems. --dry-run prints every command without executing any.',
  usage: USAGE,
  async run(args, io) {
    const v = parse(args);
    const ctx = createCtx({ dryRun: v['dry-run'] === true });
    const { plan, inventory } = await resolvePlan(ctx, v);
    const report = await executePartitioning(ctx, plan, inventory);
    if (ctx.runner instanceof RecordingRunner) {
      for (const argv of ctx.runner.planned) io.out(formatArgv(argv));
    } else {
      io.out(`partitioned ${plan.parteds.map((d) => d.device).join(' ')} in ${(report.durationMs / 1000).toFixed(1)} s`);
    }
    return 0;
  },
};
