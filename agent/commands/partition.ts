// `provision partition`: re-check the disks, clean stale state, partition, RAID,
// LVM, filesystems. `--dry-run` probes the disks read-only and prints, in order,
// every command a real run would execute, executing none of them.
import { createCtx } from '../core/context.js';
import { formatArgv, RecordingRunner } from '../core/runner.js';
import { executePartitioning } from '../partition/execute.js';
import { resolvePlan } from '../partition/load-plan.js';
import { defineOptions, dryRunOption, inputOptions, optionCommand, planOption } from './options.js';

const options = defineOptions({ ...inputOptions, ...planOption, ...dryRunOption });

export const command = optionCommand({
  name: 'partition',
  summary:
    'Partition the disks as planned: re-check them, clean stale LVM/MD/signatures (keep_data left alone), write GPT, ' +
    'create MD arrays, PVs, VGs, LVs and filesystems. --dry-run prints every command without executing any.',
  options,
  async run(v, io, env) {
    const ctx = createCtx({ dryRun: v['dry-run'], signal: env.signal });
    const { plan, inventory } = await resolvePlan(ctx, v);
    const report = await executePartitioning(ctx, plan, inventory);
    if (ctx.runner instanceof RecordingRunner) {
      for (const argv of ctx.runner.planned) io.out(formatArgv(argv));
    } else {
      io.out(`partitioned ${plan.parteds.map((d) => d.device).join(' ')} in ${(report.durationMs / 1000).toFixed(1)} s`);
    }
    return 0;
  },
});
