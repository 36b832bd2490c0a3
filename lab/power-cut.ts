// Where a power cut lands in a provisioning run, told by the agent's own log
// events: the run's steps (run.step.start), partitioning's sub-steps
// (partition.step.start) and the image's progress. The lab cuts the node's power
// once a run has reached the cut point (plus a delay inside the step).
import { z } from 'zod';
import { parseJsonAs } from '../agent/core/parse-json.js';

/** The steps that write to disk, in the order a run takes them. */
export const CUT_STEPS = ['clean', 'partition', 'wipe-new', 'md', 'pv', 'vg', 'lv', 'mkfs', 'images', 'configdrive', 'bootloader'] as const;
export type CutStep = (typeof CUT_STEPS)[number];

/** Which log event starts each step (partitioning's sub-steps have their own). */
const STARTED_BY: Record<CutStep, string> = {
  clean: 'partition.step.start',
  partition: 'partition.step.start',
  'wipe-new': 'partition.step.start',
  md: 'partition.step.start',
  pv: 'partition.step.start',
  vg: 'partition.step.start',
  lv: 'partition.step.start',
  mkfs: 'partition.step.start',
  images: 'run.step.start',
  configdrive: 'run.step.start',
  bootloader: 'run.step.start',
};

export interface CutPoint {
  step: CutStep;
  /** In the images step: cut once the image is this far (percent of its bytes). */
  percent?: number;
  /** Then wait this long before the cut (a moment inside the step, not its first instruction). */
  delayMs: number;
}

export const describeCut = (p: CutPoint): string =>
  `${p.step}${p.percent === undefined ? '' : ` at ${p.percent}%`}${p.delayMs ? ` +${p.delayMs} ms` : ''}`;

const agentEvent = z.looseObject({ event: z.string(), step: z.string().optional(), percent: z.number().nullable().optional() });

/** The position a log line puts the run at: its step's index in CUT_STEPS and the image percent; undefined for other lines. */
function position(line: string): { index: number; percent?: number } | undefined {
  let e: z.output<typeof agentEvent>;
  try {
    e = parseJsonAs(agentEvent, line);
  } catch {
    return undefined;
  }
  if (e.event === 'image.progress') return { index: CUT_STEPS.indexOf('images'), ...(typeof e.percent === 'number' ? { percent: e.percent } : {}) };
  const index = CUT_STEPS.findIndex((s) => s === e.step && STARTED_BY[s] === e.event);
  return index < 0 ? undefined : { index };
}

/**
 * A predicate over the agent's log lines that turns true, and stays true, once the
 * run has reached `p`. A step the run skips (nothing to do) is passed by the next
 * one's start, so every cut point is reached by a run that gets that far.
 */
export function cutReached(p: CutPoint): (line: string) => boolean {
  const target = CUT_STEPS.indexOf(p.step);
  let reached = false;
  return (line) => {
    if (reached) return true;
    const at = position(line);
    if (!at) return false;
    if (at.index > target) reached = true;
    else if (at.index === target) reached = p.percent === undefined || (at.percent !== undefined && at.percent >= p.percent);
    return reached;
  };
}
