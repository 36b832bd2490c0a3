// Throttled progress events (field failure #16: many nodes reporting to one master).
import type { Ctx } from '../core/context.js';

export interface ProgressFields {
  uri: string;
  device: string;
}

export class Progress {
  readonly #ctx: Ctx;
  readonly #f: ProgressFields;
  readonly #everyMs: number;
  readonly #started: number;
  #last = 0;
  /** Known total of decompressed bytes (expected size), if any. */
  total: number | undefined;

  constructor(ctx: Ctx, f: ProgressFields, everyMs: number, total?: number) {
    this.#ctx = ctx;
    this.#f = f;
    this.#everyMs = everyMs;
    this.#started = ctx.clock.now();
    this.total = total;
  }

  /** bytes: decompressed bytes written; wire: compressed bytes received of wireTotal. */
  tick(bytes: number, wire: number, wireTotal: number | undefined, final = false): void {
    const now = this.#ctx.clock.now();
    if (!final && now - this.#last < this.#everyMs) return;
    this.#last = now;
    const secs = Math.max(0.001, (now - this.#started) / 1000);
    // With a compressed stream the raw total is often unknown: the wire fraction is the honest percentage.
    const fraction = this.total ? bytes / this.total : wireTotal ? wire / wireTotal : undefined;
    this.#ctx.log.info('image.progress', {
      ...this.#f,
      bytes,
      total: this.total ?? null,
      wireBytes: wire,
      wireTotal: wireTotal ?? null,
      percent: fraction === undefined ? null : Math.round(fraction * 1000) / 10,
      rate: Math.round(bytes / secs),
      done: final,
    });
  }
}
