// Turns a plan into real disks, as a fixed sequence of small steps (one module
// each, run by core/sequence.ts, which logs partition.step.start/done/failed).
// Nothing is written before `recheck` has passed. A failing step throws
// its typed error (a ToolError names the command and its stderr); re-running the
// whole sequence from scratch is always safe, because `clean` starts over.
import type { Ctx } from '../core/context.js';
import { runSteps, StepFailed, stepEvents, type Step } from '../core/sequence.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan } from '../plan/types.js';
import { cleanStaleState } from './clean.js';
import { createLvs, createPvs, createVgs } from './create-lvm.js';
import { createMdArrays } from './create-md.js';
import { createPartitions } from './create-partitions.js';
import { makeFilesystems } from './make-filesystems.js';
import { recheckPlan } from './recheck.js';
import { rereadAndWait } from './reread.js';
import { sysfsGraph, type BlockGraph } from '../tools/sysfs.js';
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
  const steps: Step[] = [
    { name: 'recheck', run: () => recheckPlan(ctx, plan, inventory, g) },
    { name: 'clean', leaves: 'stale signatures, arrays and volume groups on planned disks removed', run: () => cleanStaleState(ctx, plan, g) },
    { name: 'partition', leaves: 'GPT partition tables', run: () => createPartitions(ctx, plan) },
    { name: 'reread', run: () => rereadAndWait(ctx, plan, t) },
    { name: 'wipe-new', leaves: 'new partitions wiped', run: () => wipeNewPartitions(ctx, plan) },
    { name: 'md', leaves: 'md arrays', run: () => createMdArrays(ctx, plan, t) },
    { name: 'pv', leaves: 'LVM physical volumes', run: () => createPvs(ctx, plan) },
    { name: 'vg', leaves: 'LVM volume groups', run: () => createVgs(ctx, plan) },
    { name: 'lv', leaves: 'LVM logical volumes', run: () => createLvs(ctx, plan, t) },
    { name: 'mkfs', leaves: 'filesystems', run: () => makeFilesystems(ctx, plan, t) },
  ];
  const started = ctx.clock.now();
  try {
    const records = await runSteps(ctx, steps, { events: stepEvents('partition.step'), fields: { dryRun: ctx.dryRun } });
    return { steps: records.map((r) => ({ name: r.name, durationMs: r.durationMs })), durationMs: ctx.clock.now() - started };
  } catch (e) {
    // Callers act on the step's own typed error (ToolError, DISK_CHANGED …).
    throw e instanceof StepFailed ? e.cause : e;
  }
}
