// Everything a step needs from the outside world travels in one context object
// (no globals), so tests swap in a recording runner, a fake clock or a memory log.
import { ExecaRunner, RecordingRunner, type Runner } from './runner.js';
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
      const t = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        reject(signal.reason);
      }, { once: true });
    }),
};

export interface Ctx {
  runner: Runner;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** True when mutating commands are recorded instead of executed. */
  dryRun: boolean;
}

export function createCtx(over: Partial<Ctx> = {}): Ctx {
  const dryRun = over.dryRun ?? false;
  return {
    runner: over.runner ?? (dryRun ? new RecordingRunner({ probe: new ExecaRunner() }) : new ExecaRunner()),
    log: over.log ?? createLogger([stderrSink]),
    clock: over.clock ?? realClock,
    signal: over.signal ?? new AbortController().signal,
    dryRun,
  };
}
