// Everything a step needs from the outside world travels in one context object
// (no globals), so tests swap in a recording runner, a fake clock or a memory log.
import { ExecaRunner, RecordingRunner, type RunOptions, type RunResult, type Runner } from './runner.js';
import { createLogger, stderrSink, type Logger } from './log.js';

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      // The listener goes when the timer fires: a signal that lives for a whole
      // run must not collect one listener per poll.
      const onAbort = (): void => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface Ctx {
  runner: Runner;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** True when mutating commands are recorded instead of executed. */
  dryRun: boolean;
  /**
   * `runner.run` with this context's signal, so cancelling the run stops the
   * command. A method (uses `this`), so `{ ...ctx, signal }` copies stay right.
   */
  run(argv: readonly string[], opts?: Omit<RunOptions, 'signal'>): Promise<RunResult>;
}

/** The `run` every context shares: the signal always goes with the command. */
function runWithSignal(this: Ctx, argv: readonly string[], opts: Omit<RunOptions, 'signal'> = {}): Promise<RunResult> {
  return this.runner.run(argv, { ...opts, signal: this.signal });
}

export function createCtx(over: Partial<Ctx> = {}): Ctx {
  const dryRun = over.dryRun ?? false;
  return {
    runner: over.runner ?? (dryRun ? new RecordingRunner({ probe: new ExecaRunner() }) : new ExecaRunner()),
    log: over.log ?? createLogger([stderrSink]),
    clock: over.clock ?? realClock,
    signal: over.signal ?? new AbortController().signal,
    dryRun,
    run: runWithSignal,
  };
}
