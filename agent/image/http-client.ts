// A small HTTP(S) GET client for images and their metadata, on node:http so the
// body arrives as a Node stream (no web-stream copies). Retries connect errors and
// 5xx with backoff; every wait on the network is bounded by a per-read stall timer.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
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

export function describeNetError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
}

export class StallError extends Error {
  readonly code = 'STALLED';
  constructor(readonly ms: number) {
    super(`no data for ${ms / 1000}s`);
  }
}

export interface GetOptions {
  /** Ask for the body from this byte on (Range). */
  offset?: number;
  stallTimeoutMs: number;
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
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers, ...(o.signal ? { signal: o.signal } : {}) }, (res) => {
      req.setTimeout(0);
      resolve(res);
    });
    // Until the head arrives, the socket timeout is the stall timer.
    req.setTimeout(o.stallTimeoutMs, () => req.destroy(new StallError(o.stallTimeoutMs)));
    req.on('error', reject);
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
  let last = '';
  let stalled = false;
  for (let attempt = 1; attempt <= o.fetch.connectAttempts; attempt++) {
    if (ctx.signal.aborted) throw new ForgeError('ABORTED', `${o.what}: aborted at offset ${offset}`);
    try {
      const res = await httpGet(url, { offset, stallTimeoutMs: o.fetch.stallTimeoutMs, signal: ctx.signal });
      const status = res.statusCode ?? 0;
      if (!isRetryableStatus(status)) return res;
      res.resume();
      last = `HTTP ${status} ${res.statusMessage ?? ''}`.trim();
      stalled = false;
    } catch (e) {
      if (ctx.signal.aborted) throw new ForgeError('ABORTED', `${o.what}: aborted at offset ${offset}`, { cause: e });
      if (!isRetryableError(e)) {
        throw new ForgeError('IMAGE_FETCH_FAILED', `${o.what}: ${describeNetError(e)} at offset ${offset}`, {
          details: { uri: url.href, offset },
          cause: e,
        });
      }
      stalled = e instanceof StallError;
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
    { details: { uri: url.href, offset, attempts: o.fetch.connectAttempts, reason: last } },
  );
}

/**
 * The body's chunks, each read bounded by the stall timer. Time the consumer
 * spends between reads (a slow disk) does not count: only waiting on the network.
 */
export async function* readWithStall(ctx: Ctx, body: AsyncIterable<Buffer> & { destroy(e?: Error): void }, stallMs: number): AsyncGenerator<Buffer> {
  const it = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      const ac = new AbortController();
      const next = it.next();
      const timer = ctx.clock.sleep(stallMs, ac.signal).then(
        () => 'stall' as const,
        () => 'cancelled' as const,
      );
      const r = await Promise.race([next, timer]);
      if (r === 'stall') {
        next.catch(() => undefined);
        const err = new StallError(stallMs);
        body.destroy(err);
        throw err;
      }
      ac.abort();
      if (r === 'cancelled') throw new Error('stall timer cancelled early'); // only our abort cancels it
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.().catch(() => undefined);
  }
}

/** A whole small body (metadata files), at most `limit` bytes. */
export async function readSmallBody(ctx: Ctx, res: IncomingMessage, stallMs: number, limit = 4 << 20): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of readWithStall(ctx, res, stallMs)) {
    n += c.length;
    if (n > limit) {
      res.destroy();
      throw new ForgeError('IMAGE_FETCH_FAILED', `${res.url ?? 'metadata'}: larger than ${limit} bytes`);
    }
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}
