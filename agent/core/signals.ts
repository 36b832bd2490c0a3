// SIGINT/SIGTERM → one AbortSignal for the whole command. The first signal aborts
// (reason: ForgeError ABORTED naming the signal) so steps stop at their next check,
// clean up and report where they stopped; the handlers are then removed, so a
// second signal gets Node's default behaviour and ends the process at once.
import { ForgeError } from './errors.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Exit codes of a command a signal stopped: 128 + the signal number, as a shell reports it. */
export const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

const SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM'];

export interface SignalScope extends Disposable {
  readonly signal: AbortSignal;
  /** The signal that aborted, once one did. */
  readonly received: StopSignal | undefined;
  /** Removes the handlers (idempotent). */
  dispose(): void;
}

/** Where the handlers go; `process` in production, an EventEmitter in tests. */
export interface SignalSource {
  on(event: StopSignal, listener: () => void): unknown;
  off(event: StopSignal, listener: () => void): unknown;
}

export function abortOnSignals(source: SignalSource = process): SignalScope {
  const ac = new AbortController();
  let received: StopSignal | undefined;
  const handlers = SIGNALS.map((name) => [name, () => {
    received = name;
    dispose();
    ac.abort(new ForgeError('ABORTED', `received ${name}`, { details: { signal: name } }));
  }] as const);
  let disposed = false;
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    for (const [name, h] of handlers) source.off(name, h);
  };
  for (const [name, h] of handlers) source.on(name, h);
  return {
    signal: ac.signal,
    get received() {
      return received;
    },
    dispose,
    [Symbol.dispose]: dispose,
  };
}
