// The one step machinery: a step has a name, what it leaves on disk, a timeout
// and a body; a Sequence runs steps one at a time, and times, logs, aborts and
// records each, so every caller (partitioning, a provisioning run, the lab's
// stages) reports the same way and stops the same way.
import type { Clock } from './context.js';
import { realClock } from './context.js';
import { ForgeError, isForgeError, type ErrorCode } from './errors.js';
import type { Logger } from './log.js';

export interface Step<T = unknown> {
  name: string;
  /** What the step leaves on disk (for logs and reports), e.g. "GPT partition tables". */
  leaves?: string;
  /** Abort the step's signal and fail with the sequence's timeout code after this long. */
  timeoutMs?: number;
  /** runSteps records the step as skipped instead of running it. */
  skip?: boolean;
  /** The body; `signal` fires on the sequence's abort or the step's timeout. */
  run(signal: AbortSignal): Promise<T>;
}

export type StepOutcome = 'ok' | 'failed' | 'skipped';

export interface StepRecord {
  name: string;
  outcome: StepOutcome;
  /** ISO time the step started (or was skipped). */
  startedAt: string;
  durationMs: number;
  leaves?: string;
  /** The failure as JSON (code, message, command …). */
  error?: Record<string, unknown>;
}

/** Log event names; `stepEvents(prefix)` gives `<prefix>.start/done/failed/skipped`. */
export interface StepEvents {
  start: string;
  done: string;
  failed: string;
  skipped: string;
}

export function stepEvents(prefix: string): StepEvents {
  return { start: `${prefix}.start`, done: `${prefix}.done`, failed: `${prefix}.failed`, skipped: `${prefix}.skipped` };
}

/** What a sequence needs from its caller's world; a Ctx is one. */
export interface StepEnv {
  log: Logger;
  clock?: Clock;
  /** Cancels the sequence: checked before each step and passed to its body. */
  signal?: AbortSignal;
}

export interface SequenceOptions {
  /** Default: `step.start`, `step.done` … (see stepEvents). */
  events?: StepEvents;
  /** Code of the error a step's timeout raises; default TOOL_TIMEOUT (the lab uses LAB_TIMEOUT). */
  timeoutCode?: ErrorCode;
  /** Code of StepFailed when a step throws something that is not a ForgeError; default TOOL_FAILED. */
  failCode?: ErrorCode;
  /** Extra fields on every start event (e.g. `{ dryRun }`). */
  fields?: Record<string, unknown>;
}

/** A failure as report JSON; errors that are not ForgeErrors are bugs, shown as INTERNAL. */
export function errorJson(e: unknown): Record<string, unknown> {
  if (isForgeError(e)) return e.toJSON();
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/** Runs one step to completion or to its timeout, whichever comes first. */
async function withTimeout<T>(step: Step<T>, parent: AbortSignal | undefined, code: ErrorCode): Promise<T> {
  if (step.timeoutMs === undefined) return step.run(parent ?? new AbortController().signal);
  const own = new AbortController();
  const signal = parent ? AbortSignal.any([parent, own.signal]) : own.signal;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new ForgeError(code, `${step.name} timed out after ${step.timeoutMs} ms`, { details: { step: step.name, timeoutMs: step.timeoutMs } });
      own.abort(e);
      reject(e);
    }, step.timeoutMs);
    // A cancelled sequence must not wait out a long timeout on a body that ignores its signal.
    onAbort = () => reject(new ForgeError('ABORTED', `${step.name} cancelled`, { cause: parent?.reason }));
    parent?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    // The body may ignore its signal; the race still ends the step on time.
    return await Promise.race([step.run(signal), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) parent?.removeEventListener('abort', onAbort);
  }
}

export class Sequence {
  readonly records: StepRecord[] = [];
  readonly #env: StepEnv;
  readonly #o: SequenceOptions;
  readonly #clock: Clock;
  readonly #events: StepEvents;

  constructor(env: StepEnv, o: SequenceOptions = {}) {
    this.#env = env;
    this.#o = o;
    this.#clock = env.clock ?? realClock;
    this.#events = o.events ?? stepEvents('step');
  }

  #base(step: Pick<Step, 'name' | 'leaves'>): Pick<StepRecord, 'name' | 'startedAt' | 'leaves'> {
    return { name: step.name, startedAt: new Date(this.#clock.now()).toISOString(), ...(step.leaves ? { leaves: step.leaves } : {}) };
  }

  /** Records a step that is not wanted this time. */
  skip(step: Pick<Step, 'name' | 'leaves'>): void {
    this.records.push({ ...this.#base(step), outcome: 'skipped', durationMs: 0 });
    this.#env.log.info(this.#events.skipped, { step: step.name, outcome: 'skipped' });
  }

  /**
   * Runs one step and records it. Throws the step's own error, an ABORTED
   * error when the sequence was cancelled before it, or the timeout error.
   */
  async run<T>(step: Step<T>): Promise<T> {
    const { log, signal } = this.#env;
    const t0 = this.#clock.now();
    const base = this.#base(step);
    log.info(this.#events.start, { step: step.name, ...this.#o.fields, ...(step.leaves ? { leaves: step.leaves } : {}) });
    try {
      if (signal?.aborted) throw new ForgeError('ABORTED', `aborted before ${step.name}`, { cause: signal.reason });
      const value = await withTimeout(step, signal, this.#o.timeoutCode ?? 'TOOL_TIMEOUT');
      const durationMs = this.#clock.now() - t0;
      this.records.push({ ...base, outcome: 'ok', durationMs });
      log.info(this.#events.done, { step: step.name, outcome: 'ok', durationMs });
      return value;
    } catch (e) {
      const durationMs = this.#clock.now() - t0;
      const error = errorJson(e);
      this.records.push({ ...base, outcome: 'failed', durationMs, error });
      log.error(this.#events.failed, { step: step.name, outcome: 'failed', durationMs, error, summary: firstLine(e) });
      throw e;
    }
  }
}

/** A sequence stopped at `step`; `cause` is the step's own error, `records` every step so far. */
export class StepFailed extends ForgeError {
  override readonly name = 'StepFailed';
  readonly step: string;
  readonly records: readonly StepRecord[];

  constructor(step: string, records: readonly StepRecord[], cause: unknown, failCode: ErrorCode) {
    super(isForgeError(cause) ? cause.code : failCode, `stopped at ${step}: ${firstLine(cause)}`, { cause, details: { step } });
    this.step = step;
    this.records = records;
  }
}

/** Runs `steps` in order; returns their records, or throws StepFailed at the first failure. */
export async function runSteps(env: StepEnv, steps: readonly Step[], o: SequenceOptions = {}): Promise<StepRecord[]> {
  const seq = new Sequence(env, o);
  for (const step of steps) {
    if (step.skip) {
      seq.skip(step);
      continue;
    }
    try {
      await seq.run(step);
    } catch (e) {
      throw new StepFailed(step.name, seq.records, e, o.failCode ?? 'TOOL_FAILED');
    }
  }
  return seq.records;
}
