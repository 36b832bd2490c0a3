// A small HTTP(S) GET client for images and their metadata, on node:http so the
// body arrives as a Node stream (no web-stream copies). Retries connect errors and
// 5xx with backoff; every wait on the network is bounded three ways (all IMAGE_STALLED,
// all retried): a per-read stall timer, a deadline for the whole response head, and a
// minimum body rate over a sliding window (a slow-loris server defeats the first alone).
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { redactUrl, redactUrlsIn } from '../core/redact.js';
import { VERSION } from '../version.js';
import type { FetchOptions } from './types.js';

/** Network-level failures worth another try (DNS may not be up yet at ramdisk start). */
const RETRYABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN',
  'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'ERR_STREAM_PREMATURE_CLOSE', 'STALLED',
]);

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export function isRetryableError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  // msw and some proxies surface a reset as a plain TypeError('Failed to fetch') / 'socket hang up'.
  const msg = e instanceof Error ? e.message : '';
  return /socket hang up|network error|Failed to fetch|aborted|terminated/i.test(msg);
}

/** An error's reason as printed (URL credentials removed: Node may quote the URL). */
export function describeNetError(e: unknown): string {
  if (!(e instanceof Error)) return redactUrlsIn(String(e));
  const code = (e as { code?: unknown }).code;
  const text = typeof code === 'string' && !(e instanceof StallError) && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
  return redactUrlsIn(text);
}

/** Which bound on the network tripped. */
export type NetLimit = 'stall timeout' | 'header deadline' | 'minimum rate';

/** A wait on the network ran past a limit; retryable (code STALLED), IMAGE_STALLED once retries are spent. */
export class StallError extends Error {
  readonly code = 'STALLED';
  constructor(
    readonly ms: number,
    readonly limit: NetLimit = 'stall timeout',
    why = `no data for ${ms / 1000}s`,
  ) {
    super(`${limit}: ${why}`);
  }
}

export interface GetOptions {
  /** Ask for the body from this byte on (Range). */
  offset?: number;
  stallTimeoutMs: number;
  /** The response head must be complete this long after the request (0: no deadline). */
  headerTimeoutMs?: number;
  signal?: AbortSignal;
}

/** One GET; resolves with the response head (any status), body unread. */
export function httpGet(url: URL, o: GetOptions): Promise<IncomingMessage> {
  const mod = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = {
    'user-agent': `fuel-forge/${VERSION}`,
    // A transparent gzip would change the bytes we hash and count.
    'accept-encoding': 'identity',
  };
  if (o.offset) headers.range = `bytes=${o.offset}-`;
  // Credentials in the URL (user:password@) go out as Basic auth: node:http takes them from the URL.
  return new Promise((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined;
    const req = mod.get(url, { headers, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      clearTimeout(deadline);
      req.setTimeout(0);
      resolve(res);
    });
    // Until the head arrives, the socket timeout is the stall timer...
    req.setTimeout(o.stallTimeoutMs, () => req.destroy(new StallError(o.stallTimeoutMs)));
    // ...and the deadline bounds a head trickled one byte at a time, which the idle timer never sees.
    const headMs = o.headerTimeoutMs ?? 0;
    if (headMs > 0) {
      deadline = setTimeout(
        () => req.destroy(new StallError(headMs, 'header deadline', `response head not complete ${headMs / 1000}s after the request`)),
        headMs,
      );
    }
    req.on('error', (e) => {
      clearTimeout(deadline);
      reject(e);
    });
    req.on('close', () => clearTimeout(deadline));
  });
}

export function backoffDelay(f: FetchOptions, attempt: number): number {
  return Math.min(f.maxBackoffMs, f.backoffMs * 2 ** Math.max(0, attempt - 1));
}

export interface RetryingGetOptions {
  offset?: number;
  fetch: FetchOptions;
  /** What is being fetched, for messages: `image http://... for /dev/sda3`. */
  what: string;
}

/**
 * GET with retries on connect errors and retryable statuses. Returns the first
 * response that is not retryable (the caller judges 2xx/4xx); throws
 * IMAGE_FETCH_FAILED (or IMAGE_STALLED) once the attempts are spent.
 */
export async function getWithRetry(ctx: Ctx, url: URL, o: RetryingGetOptions): Promise<IncomingMessage> {
  const offset = o.offset ?? 0;
  const shown = redactUrl(url);
  let last = '';
  let stalled: StallError | undefined;
  for (let attempt = 1; attempt <= o.fetch.connectAttempts; attempt++) {
    if (ctx.signal.aborted) throw new ForgeError('ABORTED', `${o.what}: aborted at offset ${offset}`);
    try {
      const res = await httpGet(url, {
        offset,
        stallTimeoutMs: o.fetch.stallTimeoutMs,
        headerTimeoutMs: o.fetch.headerTimeoutMs,
        signal: ctx.signal,
      });
      const status = res.statusCode ?? 0;
      if (!isRetryableStatus(status)) return res;
      res.resume();
      last = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
      stalled = undefined;
    } catch (e) {
      if (ctx.signal.aborted) throw new ForgeError('ABORTED', `${o.what}: aborted at offset ${offset}`, { cause: e });
      if (!isRetryableError(e)) {
        throw new ForgeError('IMAGE_FETCH_FAILED', `${o.what}: ${describeNetError(e)} at offset ${offset}`, {
          details: { uri: shown, offset },
          cause: e,
        });
      }
      stalled = e instanceof StallError ? e : undefined;
      last = describeNetError(e);
    }
    if (attempt < o.fetch.connectAttempts) {
      const delay = backoffDelay(o.fetch, attempt);
      ctx.log.warn('image.retry', { uri: url.href, offset, attempt, delayMs: delay, reason: last });
      await ctx.clock.sleep(delay, ctx.signal);
    }
  }
  throw new ForgeError(
    stalled ? 'IMAGE_STALLED' : 'IMAGE_FETCH_FAILED',
    `${o.what}: ${last} at offset ${offset}, gave up after ${o.fetch.connectAttempts} attempts`,
    { details: { uri: shown, offset, attempts: o.fetch.connectAttempts, reason: last, ...(stalled ? { limit: stalled.limit } : {}) } },
  );
}

/** The bounds on reading a body: the stall timer, and optionally the minimum rate. */
export type ReadLimits = Pick<FetchOptions, 'stallTimeoutMs'> & Partial<Pick<FetchOptions, 'minBytesPerSec' | 'rateWindowMs'>>;

/**
 * Bytes per unit of *network* time over a sliding window: a step function of
 * (network ms, bytes so far) sampled at most ~60 times per window, so memory stays
 * constant at any link speed. Sampling makes it lenient by at most 1/60 of a window.
 */
class RateWindow {
  readonly #bps: number;
  readonly #windowMs: number;
  readonly #samples: { t: number; n: number }[] = [{ t: 0, n: 0 }];
  #t = 0;
  #n = 0;

  constructor(bytesPerSec: number, windowMs: number) {
    this.#bps = bytesPerSec;
    this.#windowMs = windowMs;
  }

  get enabled(): boolean {
    return this.#bps > 0 && this.#windowMs > 0;
  }

  /** How often a long wait re-checks the rate (no bytes arrive to trigger a check). */
  get checkEveryMs(): number {
    return this.enabled ? Math.max(50, this.#windowMs / 10) : Infinity;
  }

  add(waitedMs: number, bytes: number): void {
    this.#t += waitedMs;
    this.#n += bytes;
    const s = this.#samples;
    if (this.#t - s[s.length - 1]!.t >= this.#windowMs / 60) s.push({ t: this.#t, n: this.#n });
    while (s.length > 1 && s[1]!.t <= this.#t - this.#windowMs) s.shift();
  }

  /** The failure if the read in progress, `pendingMs` in, ended now with nothing. */
  check(pendingMs: number): StallError | undefined {
    if (!this.enabled) return undefined;
    const now = this.#t + pendingMs;
    if (now < this.#windowMs) return undefined;
    const start = now - this.#windowMs;
    let base = this.#samples[0]!;
    for (const s of this.#samples) {
      if (s.t > start) break;
      base = s;
    }
    const got = this.#n - base.n;
    const need = (this.#bps * this.#windowMs) / 1000;
    if (got >= need) return undefined;
    const secs = this.#windowMs / 1000;
    return new StallError(this.#windowMs, 'minimum rate', `${got} bytes in the last ${secs}s of waiting, below ${this.#bps} bytes/s (${need} bytes per ${secs}s)`);
  }
}

/** The reason the stall timer of a finished read is cancelled with (never seen outside readWithStall). */
const TIMER_DONE = Symbol('read finished');
/** Settled at once: raced against a read, it wins only when the read is still pending. */
const PENDING = Symbol('read pending');
const pending = Promise.resolve(PENDING);

/**
 * The body's chunks, each read bounded by the stall timer and, when set, the
 * whole connection by a minimum rate. Time the consumer spends between reads (a
 * slow disk, a busy decompressor) does not count: only waiting on the network.
 *
 * Why a rate over a window and not a per-attempt deadline: a deadline has to allow
 * the largest image on the slowest legitimate link (tens of GiB over a master shared
 * by hundreds of nodes: hours), so it would let a slow-loris server hold the node for
 * hours too; a rate of 64 KiB/s averaged over 60 s of network time fails a 1-byte-per-2-s
 * drip within about a minute yet is ~1/2000 of a 1 GbE link, far below any real
 * download, and a 60 s window rides out pauses shorter than the stall timer. Memory is
 * not the issue on a 1 GiB node (the stream is never buffered); the time is. A server
 * just above the rate still ends: the body is bounded by Content-Length/the image size.
 */
export async function* readWithStall(ctx: Ctx, body: AsyncIterable<Buffer> & { destroy(e?: Error): void }, limits: ReadLimits): AsyncGenerator<Buffer> {
  const stallMs = limits.stallTimeoutMs;
  const rate = new RateWindow(limits.minBytesPerSec ?? 0, limits.rateWindowMs ?? 0);
  const it = body[Symbol.asyncIterator]();
  const fail = (next: Promise<unknown>, err: StallError): never => {
    next.catch(() => undefined);
    body.destroy(err);
    throw err;
  };
  try {
    for (;;) {
      const next = it.next();
      // Data already buffered (the usual case when the disk, not the network, sets the pace): no
      // timer, no waiting — a timer and an AbortController per 64 KiB read cost more than the read.
      const ready = await Promise.race([next, pending]);
      if (ready !== PENDING) {
        rate.add(0, ready.done ? 0 : ready.value.length);
        if (ready.done) return;
        yield ready.value;
        continue;
      }
      const t0 = ctx.clock.now();
      // Waited so far on this read: whole timer slices, or the clock if it says more.
      let waited = 0;
      let r: IteratorResult<Buffer>;
      for (;;) {
        if (waited >= stallMs) fail(next, new StallError(stallMs));
        const slow = rate.check(waited);
        if (slow) fail(next, slow);
        const slice = Math.min(stallMs - waited, rate.checkEveryMs);
        const ac = new AbortController();
        const timer = ctx.clock.sleep(slice, ac.signal).then(
          () => 'tick' as const,
          () => 'cancelled' as const,
        );
        let x: Awaited<typeof next> | 'tick' | 'cancelled';
        try {
          x = await Promise.race([next, timer]);
        } finally {
          // Also when the read rejected (a cancelled run destroys the body): a pending timer would keep the process alive.
          // A ready-made reason: abort() without one builds a DOMException (a stack trace) per read — a third of
          // a core at disk speed.
          ac.abort(TIMER_DONE);
        }
        // Only our own abort cancels it, after the race: reaching this is a bug, reported as such.
        if (x === 'cancelled') throw new ForgeError('IMAGE_FETCH_FAILED', 'internal: the stall timer was cancelled before the read finished');
        if (x === 'tick') {
          waited = Math.max(waited + slice, ctx.clock.now() - t0);
          continue;
        }
        r = x;
        break;
      }
      rate.add(Math.max(waited, ctx.clock.now() - t0), r.done ? 0 : r.value.length);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.().catch(() => undefined);
  }
}

export interface SmallBodyOptions {
  fetch: ReadLimits;
  /** `metadata <url>` (redacted), the prefix of messages. */
  what: string;
  /** Most bytes accepted. */
  limit?: number;
}

/** A whole small body (metadata files), at most `limit` bytes; a tripped limit is IMAGE_STALLED. */
export async function readSmallBody(ctx: Ctx, res: IncomingMessage, o: SmallBodyOptions): Promise<string> {
  const limit = o.limit ?? 4 << 20;
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of readWithStall(ctx, res, o.fetch)) {
      n += c.length;
      if (n > limit) {
        res.destroy();
        throw new ForgeError('IMAGE_FETCH_FAILED', `${o.what}: larger than ${limit} bytes`);
      }
      parts.push(c);
    }
  } catch (e) {
    if (e instanceof StallError) {
      throw new ForgeError('IMAGE_STALLED', `${o.what}: ${e.message} after ${n} bytes`, { details: { offset: n, limit: e.limit }, cause: e });
    }
    throw e;
  }
  return Buffer.concat(parts).toString('utf8');
}
