// Everything the master network acquires registers its release here, so every
// exit path (a failed start included) releases in reverse order. Release errors
// are collected, not allowed to skip the remaining releases.
import { ForgeError } from '../../agent/core/errors.js';

export class CleanupStack implements AsyncDisposable {
  readonly #releases: { what: string; fn: () => Promise<void> }[] = [];
  #disposed = false;

  /** Registers `fn` to run (last-in, first-out) on dispose. */
  defer(what: string, fn: () => Promise<void>): void {
    if (this.#disposed) throw new ForgeError('LAB_FAILED', `cleanup stack already disposed; cannot defer ${what}`);
    this.#releases.push({ what, fn });
  }

  get size(): number {
    return this.#releases.length;
  }

  /** Runs every release; throws LAB_FAILED naming each that failed. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const failed: { what: string; error: unknown }[] = [];
    for (const r of this.#releases.splice(0).reverse()) {
      try {
        await r.fn();
      } catch (error) {
        failed.push({ what: r.what, error });
      }
    }
    if (failed.length) {
      throw new ForgeError('LAB_FAILED', `cleanup failed: ${failed.map((f) => `${f.what}: ${(f.error as Error).message ?? f.error}`).join('; ')}`, {
        details: { failed: failed.map((f) => f.what) },
        cause: failed[0]?.error,
      });
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
