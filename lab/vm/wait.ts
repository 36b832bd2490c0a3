// Readiness waits for the lab: a serial-console line, an HTTP call-back, a TCP port.
// Each wait has its own timeout and describes itself, so a timeout names what never came.
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { ForgeError } from '../../agent/core/errors.js';

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Polled between checks; a reason string aborts the wait early (e.g. "qemu exited 1"). */
  failWhen?: () => string | undefined;
  pollMs?: number;
}

export interface Wait<T> {
  readonly what: string;
  readonly timeoutMs: number;
  until(signal?: AbortSignal): Promise<T>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value; throws LAB_TIMEOUT naming `what`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 200;
  for (;;) {
    if (opts.signal?.aborted) throw new ForgeError('ABORTED', `aborted while waiting for ${what}`);
    const v = await check();
    if (v !== undefined) return v;
    const why = opts.failWhen?.();
    if (why) throw new ForgeError('LAB_FAILED', `gave up waiting for ${what}: ${why}`, { details: { what } });
    if (Date.now() >= deadline) {
      throw new ForgeError('LAB_TIMEOUT', `timed out after ${opts.timeoutMs} ms waiting for ${what}`, {
        details: { what, timeoutMs: opts.timeoutMs },
      });
    }
    await sleep(pollMs);
  }
}

/** Follows a growing text file (the serial log) from `fromOffset`, matching line by line. */
export class LogFollower {
  #offset: number;
  #partial = '';
  constructor(readonly path: string, fromOffset = 0) {
    this.#offset = fromOffset;
  }
  get offset(): number {
    return this.#offset;
  }
  /** New complete lines since the last call. */
  async readLines(): Promise<string[]> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch {
      return [];
    }
    try {
      const lines: string[] = [];
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, this.#offset);
        if (bytesRead === 0) break;
        this.#offset += bytesRead;
        this.#partial += buf.subarray(0, bytesRead).toString('latin1');
      }
      const parts = this.#partial.split(/\r?\n/);
      this.#partial = parts.pop() ?? '';
      lines.push(...parts);
      return lines;
    } finally {
      await fh.close();
    }
  }
  /** The unterminated tail (prompts often end without a newline). */
  get partial(): string {
    return this.#partial;
  }
}

export function serialLine(path: string, re: RegExp, opts: WaitOptions & { fromOffset?: number }): Wait<RegExpMatchArray> {
  return {
    what: `serial console line ${re} in ${path}`,
    timeoutMs: opts.timeoutMs,
    until: (signal) => {
      const f = new LogFollower(path, opts.fromOffset ?? 0);
      return pollUntil(`serial console line ${re}`, async () => {
        for (const line of await f.readLines()) {
          const m = line.match(re);
          if (m) return m;
        }
        return f.partial.match(re) ?? undefined;
      }, { ...opts, ...(signal ? { signal } : {}) });
    },
  };
}

/** One TCP connect: true when something accepts on host:port within `timeoutMs`. */
export function portAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.setTimeout(timeoutMs);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
    s.once('timeout', () => { s.destroy(); resolve(false); });
  });
}

export function tcpPort(host: string, port: number, opts: WaitOptions): Wait<void> {
  const what = `TCP port ${host}:${port}`;
  const probe = async (): Promise<true | undefined> => ((await portAnswers(host, port)) ? true : undefined);
  return {
    what,
    timeoutMs: opts.timeoutMs,
    until: async (signal) => {
      await pollUntil(what, probe, { ...opts, ...(signal ? { signal } : {}) });
    },
  };
}

/** Waits for something recorded by an in-process server (e.g. mock Nailgun's call-back log). */
export function callback<T>(what: string, probe: () => T | undefined, opts: WaitOptions): Wait<T> {
  return {
    what,
    timeoutMs: opts.timeoutMs,
    until: (signal) => pollUntil(what, async () => probe(), { ...opts, ...(signal ? { signal } : {}) }),
  };
}
