// Batches a task's log lines and ships them to the master at most once per
// interval (plus jitter), so a chatty run on many nodes cannot flood it. A
// bounded buffer drops the oldest lines (and says how many) when the master is away.
import type { Clock } from '../core/context.js';

export interface LogShipperOptions {
  send: (lines: string[]) => Promise<void>;
  clock: Clock;
  intervalMs?: number;
  jitterMs?: number;
  maxBatch?: number;
  maxBuffered?: number;
  random?: () => number;
}

export class LogShipper {
  readonly #o: Required<LogShipperOptions>;
  #buf: string[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(o: LogShipperOptions) {
    this.#o = { intervalMs: 1000, jitterMs: 500, maxBatch: 500, maxBuffered: 5000, random: Math.random, ...o };
  }

  push(line: string): void {
    this.#buf.push(line);
    if (this.#buf.length > this.#o.maxBuffered) {
      const over = this.#buf.length - this.#o.maxBuffered;
      this.#buf.splice(0, over);
      this.#dropped += over;
    }
    this.#schedule();
  }

  get pending(): number {
    return this.#buf.length;
  }

  #schedule(): void {
    if (this.#timer) return;
    const delay = this.#o.intervalMs + Math.round(this.#o.jitterMs * this.#o.random());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Sends everything buffered (in batches); failed batches go back to the front. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      while (this.#buf.length) {
        const batch = this.#buf.splice(0, this.#o.maxBatch);
        if (this.#dropped) {
          batch.unshift(`[fuel-forge: ${this.#dropped} log lines dropped while the master was unreachable]`);
          this.#dropped = 0;
        }
        try {
          await this.#o.send(batch);
        } catch {
          this.#buf.unshift(...batch);
          this.#schedule();
          return;
        }
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
