// The one clean-up stack: whatever a step acquires (a mount, a container, a VM,
// a temp dir) registers its release here, and every exit path releases in
// reverse order. A failed release does not skip the others; all failures are
// reported together, so nothing is left behind silently.
import { ForgeError, isForgeError, type ErrorCode } from './errors.js';

export interface FailedRelease {
  what: string;
  error: unknown;
}

/** One or more releases failed; `failed` names each, in the order they ran. */
export class CleanupFailed extends ForgeError {
  override readonly name = 'CleanupFailed';
  readonly failed: readonly FailedRelease[];

  constructor(code: ErrorCode, failed: readonly FailedRelease[]) {
    const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));
    super(code, `cleanup failed: ${failed.map((f) => `${f.what}: ${why(f.error)}`).join('; ')}`, {
      details: { failed: failed.map((f) => f.what) },
      cause: failed[0]?.error,
    });
    this.failed = failed;
  }
}

export interface CleanupOptions {
  /** Code of the CleanupFailed error; default TOOL_FAILED (the lab passes LAB_FAILED). */
  code?: ErrorCode;
}

export class CleanupStack implements AsyncDisposable {
  readonly #releases: { what: string; fn: () => unknown }[] = [];
  readonly #code: ErrorCode;
  #disposed = false;

  constructor(opts: CleanupOptions = {}) {
    this.#code = opts.code ?? 'TOOL_FAILED';
  }

  /** Registers `fn` to run (last in, first out) on dispose. */
  defer(what: string, fn: () => unknown): void {
    // A release registered after disposal would never run: refuse it loudly.
    if (this.#disposed) throw new ForgeError(this.#code, `cleanup stack already disposed; cannot defer ${what}`);
    this.#releases.push({ what, fn });
  }

  /** Releases still pending. */
  get size(): number {
    return this.#releases.length;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /**
   * Releases everything after `error` broke a start-up, then rethrows `error`:
   * it is what the caller must see, so a release failure is attached to it
   * (details.cleanup) instead of replacing it.
   */
  async unwind(error: unknown): Promise<never> {
    try {
      await this.dispose();
    } catch (c) {
      const cleanup = c instanceof Error ? c.message : String(c);
      if (isForgeError(error)) error.details['cleanup'] = cleanup;
      else throw new ForgeError(this.#code, `${error instanceof Error ? error.message : String(error)} (and ${cleanup})`, { cause: error, details: { cleanup } });
    }
    throw error;
  }

  /** Runs every release, newest first; throws CleanupFailed naming each failure. Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const failed: FailedRelease[] = [];
    while (this.#releases.length) {
      const r = this.#releases.pop() as { what: string; fn: () => unknown };
      try {
        await r.fn();
      } catch (error) {
        failed.push({ what: r.what, error });
      }
    }
    if (failed.length) throw new CleanupFailed(this.#code, failed);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
