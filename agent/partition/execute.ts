// Turns a plan into real disks, as a fixed sequence of small steps (one module
// each). Nothing is written before `recheck` has passed. A failing step throws
// its typed error (a ToolError names the command and its stderr); re-running the
// whole sequence from scratch is always safe, because `clean` starts over.
import type { Ctx } from '../core/context.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import { cleanStaleState } from './clean.js';
import { createLvs, createPvs, createVgs } from './create-lvm.js';
import { createMdArrays } from './create-md.js';
import { createPartitions } from './create-partitions.js';
import { makeFilesystems } from './make-filesystems.js';
import { recheckPlan } from './recheck.js';
import { rereadAndWait } from './reread.js';
import { sysfsGraph, type BlockGraph } from './sysfs.js';
import { wipeNewPartitions } from './wipe-new.js';

export interface StepReport {
  name: string;
  durationMs: number;
}

export interface PartitionReport {
  steps: StepReport[];
  durationMs: number;
}

export interface ExecuteOptions {
  /** How long to wait for each device node (partition, array, LV). */
  nodeTimeoutMs?: number;
  /** The block-device graph (sysfs); unit tests pass a fake one. */
  graph?: BlockGraph;
}

export async function executePartitioning(
  ctx: Ctx,
  plan: Plan,
  inventory?: Inventory,
  opts: ExecuteOptions = {},
): Promise<PartitionReport> {
  const t = opts.nodeTimeoutMs ?? 60_000;
  const g = opts.graph ?? sysfsGraph;
  const steps: [string, () => Promise<unknown>][] = [
    ['recheck', () => recheckPlan(ctx, plan, inventory, g)],
    ['clean', () => cleanStaleState(ctx, plan, g)],
    ['partition', () => createPartitions(ctx, plan)],
    ['reread', () => rereadAndWait(ctx, plan, t)],
    ['wipe-new', () => wipeNewPartitions(ctx, plan)],
    ['md', () => createMdArrays(ctx, plan, t)],
    ['pv', () => createPvs(ctx, plan)],
    ['vg', () => createVgs(ctx, plan)],
    ['lv', () => createLvs(ctx, plan, t)],
    ['mkfs', () => makeFilesystems(ctx, plan, t)],
  ];
  const report: PartitionReport = { steps: [], durationMs: 0 };
  const started = ctx.clock.now();
  for (const [name, run] of steps) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const t0 = ctx.clock.now();
    ctx.log.info('partition.step.start', { step: name, dryRun: ctx.dryRun });
    try {
      await run();
    } catch (e) {
      ctx.log.error('partition.step.failed', {
        step: name,
        error: e instanceof Error ? e.message : String(e),
      });
      throw e;
    }
    const durationMs = ctx.clock.now() - t0;
    report.steps.push({ name, durationMs });
    ctx.log.info('partition.step.done', { step: name, durationMs });
  }
  report.durationMs = ctx.clock.now() - started;
  return report;
}
