import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createCtx } from '../agent/core/context.js';
import { createLogger, redactedLine } from '../agent/core/log.js';
import { runSteps, stepEvents } from '../agent/core/sequence.js';
import { Progress } from '../agent/image/progress.js';
import { STEP_NAMES } from '../agent/run/provision-run.js';
import { CUT_STEPS, cutReached, describeCut, type CutPoint } from './power-cut.js';

const MiB = 2 ** 20;
const PARTITION_STEPS = ['recheck', 'clean', 'partition', 'reread', 'wipe-new', 'md', 'pv', 'vg', 'lv', 'mkfs'];

/**
 * A run's log lines as the agent's own emitters write them: the run's steps and
 * partitioning's sub-steps through core/sequence.ts, the image's progress through
 * image/progress.ts. `skip` leaves steps out (a run with nothing to do there).
 */
async function runLines(skip: readonly string[] = []): Promise<string[]> {
  const lines: string[] = [];
  let t = 1_000_000;
  const clock = { now: () => t, sleep: async () => undefined };
  const log = createLogger([(line, e) => lines.push(redactedLine(line, e))]);
  const ctx = createCtx({ clock, log });
  const steps = (names: readonly string[], inner: Record<string, () => Promise<void>> = {}) =>
    names.filter((s) => !skip.includes(s)).map((name) => ({ name, run: inner[name] ?? (async () => undefined) }));
  const image = async (): Promise<void> => {
    const p = new Progress(ctx, { uri: 'http://10.97.0.1/root.img.gz', device: '/dev/mapper/os-root' }, 1000, 400 * MiB);
    for (const pct of [10, 35, 60, 85, 100]) {
      t += 2000;
      p.tick((400 * MiB * pct) / 100, 0, undefined, pct === 100);
    }
  };
  await runSteps({ log, clock }, steps(STEP_NAMES, {
    partition: async () => void (await runSteps({ log, clock }, steps(PARTITION_STEPS), { events: stepEvents('partition.step') })),
    images: image,
  }), { events: { start: 'run.step.start', done: 'run.step.end', failed: 'run.step.end', skipped: 'run.step.skipped' } });
  return lines;
}

/** Index of the first line at which the cut point is reached (-1: never). */
function firstReached(p: CutPoint, lines: readonly string[]): number {
  const reached = cutReached(p);
  return lines.findIndex((l) => reached(l));
}

describe('power-cut points, told by the agent\'s own log events', () => {
  it('every cut step is a step the agent runs (run steps and partitioning sub-steps)', () => {
    const execute = readFileSync(new URL('../agent/partition/execute.ts', import.meta.url), 'utf8');
    for (const s of CUT_STEPS) {
      const isRunStep = (STEP_NAMES as readonly string[]).includes(s) && s !== 'partition';
      expect(isRunStep || execute.includes(`name: '${s}'`), s).toBe(true);
    }
  });

  it('each step is reached at its own start line, in run order', async () => {
    const lines = await runLines();
    const at = CUT_STEPS.map((step) => firstReached({ step, delayMs: 0 }, lines));
    for (const [i, step] of CUT_STEPS.entries()) {
      expect(at[i], step).toBeGreaterThanOrEqual(0);
      expect(JSON.parse(lines[at[i] as number] as string)).toMatchObject({ step });
    }
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('an image cut waits for the image to be that far; a partitioning step named "partition" is not the run step', async () => {
    const lines = await runLines();
    const i = firstReached({ step: 'images', percent: 50, delayMs: 0 }, lines);
    expect(JSON.parse(lines[i] as string)).toMatchObject({ event: 'image.progress', percent: 60 });
    const p = firstReached({ step: 'partition', delayMs: 0 }, lines);
    expect(JSON.parse(lines[p] as string)).toMatchObject({ event: 'partition.step.start', step: 'partition' });
  });

  it('a step the run skips is passed by the next one; a run that stops before it never reaches it', async () => {
    const lines = await runLines(['md']);
    expect(JSON.parse(lines[firstReached({ step: 'md', delayMs: 0 }, lines)] as string)).toMatchObject({ event: 'partition.step.start', step: 'pv' });
    const early = (await runLines()).filter((l) => !/"step":"(images|configdrive|bootloader)"|image\.progress/.test(l));
    expect(firstReached({ step: 'configdrive', delayMs: 0 }, early)).toBe(-1);
    expect(cutReached({ step: 'mkfs', delayMs: 0 })('not json')).toBe(false);
  });

  it('describes itself for the log and the replay line', () => {
    expect(describeCut({ step: 'images', percent: 42, delayMs: 0 })).toBe('images at 42%');
    expect(describeCut({ step: 'md', delayMs: 700 })).toBe('md +700 ms');
  });
});
