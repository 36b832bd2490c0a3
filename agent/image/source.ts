// The compressed byte stream of one image, as one async sequence of chunks however
// many connections it takes: a dropped connection resumes with Range from the last
// byte handed on; a server that ignores Range forces a restart (RestartRequired).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { backoffDelay, describeNetError, getWithRetry, isRetryableError, readWithStall, StallError } from './http-client.js';
import type { FetchOptions } from './types.js';

/** The server answered a Range request with the whole body: everything downstream must start over. */
export class RestartRequired extends Error {
  constructor(readonly offset: number, reason: string) {
    super(reason);
  }
}

export interface SourceState {
  /** Compressed bytes handed on so far (the Range offset of a resume). */
  offset: number;
  /** Content-Length of the whole compressed stream, when known. */
  total: number | undefined;
  resumes: number;
  /** Set once a server ignored Range: later drops restart instead of resuming. */
  rangeUnsupported: boolean;
}

export interface SourceOptions {
  /** Fetched as is (credentials included); printed only through redactUrl. */
  uri: string;
  /** `image <uri> -> <device>` (URI redacted), the prefix of every message. */
  what: string;
  fetch: FetchOptions;
  /** Expected compressed length (metadata container_size), checked against Content-Length. */
  expectedSize?: number;
  state: SourceState;
}

export function newSourceState(rangeUnsupported = false): SourceState {
  return { offset: 0, total: undefined, resumes: 0, rangeUnsupported };
}

/** Total length from `Content-Range: bytes a-b/total` (or undefined). */
function parseContentRange(h: string | undefined): { start: number; total: number | undefined } | undefined {
  const m = h ? /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(h.trim()) : null;
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

export function openSource(ctx: Ctx, o: SourceOptions): AsyncGenerator<Buffer> {
  const u = new URL(o.uri);
  return u.protocol === 'file:' ? fileSource(o, fileURLToPath(u)) : httpSource(ctx, o, u);
}

async function* fileSource(o: SourceOptions, path: string): AsyncGenerator<Buffer> {
  const st = await stat(path).catch((e: unknown) => {
    throw new ForgeError('IMAGE_FETCH_FAILED', `${o.what}: ${describeNetError(e)}`, { details: { uri: redactUrl(o.uri) }, cause: e });
  });
  o.state.total = st.size;
  checkExpected(o, st.size);
  for await (const c of createReadStream(path, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    o.state.offset += c.length;
    yield c;
  }
}

function checkExpected(o: SourceOptions, total: number): void {
  if (o.expectedSize !== undefined && total !== o.expectedSize) {
    throw new ForgeError(
      'IMAGE_SIZE_MISMATCH',
      `${o.what}: the server offers ${total} bytes, the metadata says the file is ${o.expectedSize} bytes (offset 0)`,
      { details: { uri: redactUrl(o.uri), expected: o.expectedSize, actual: total, offset: 0, stream: 'container' } },
    );
  }
}

async function* httpSource(ctx: Ctx, o: SourceOptions, url: URL): AsyncGenerator<Buffer> {
  const st = o.state;
  const shown = redactUrl(o.uri);
  for (;;) {
    const asked = st.offset;
    const res = await getWithRetry(ctx, url, { offset: asked, fetch: o.fetch, what: o.what });
    const status = res.statusCode ?? 0;
    if (asked === 0 && status === 200) {
      const len = res.headers['content-length'];
      st.total = len === undefined ? undefined : Number(len);
      if (st.total !== undefined) checkExpected(o, st.total);
    } else if (asked > 0 && status === 206) {
      const cr = parseContentRange(res.headers['content-range']);
      if (!cr || cr.start !== asked) {
        res.destroy();
        throw new RestartRequired(asked, `resume at ${asked} answered with Content-Range ${res.headers['content-range'] ?? '(none)'}`);
      }
      if (cr.total !== undefined && st.total !== undefined && cr.total !== st.total) {
        res.destroy();
        throw new RestartRequired(asked, `the file changed size during the download (${st.total} -> ${cr.total})`);
      }
    } else if (asked > 0 && status === 200) {
      res.destroy();
      st.rangeUnsupported = true;
      throw new RestartRequired(asked, `the server ignored Range at offset ${asked} (HTTP 200)`);
    } else {
      res.resume();
      throw new ForgeError('IMAGE_FETCH_FAILED', `${o.what}: HTTP ${status} ${res.statusMessage ?? ''} at offset ${asked}`.trim(), {
        details: { uri: shown, status, offset: asked },
      });
    }
    let why: unknown;
    try {
      for await (const c of readWithStall(ctx, res, o.fetch)) {
        st.offset += c.length;
        if (st.total !== undefined && st.offset > st.total) {
          throw new ForgeError('IMAGE_SIZE_MISMATCH', `${o.what}: the server sent more than its Content-Length ${st.total} (offset ${st.offset})`, {
            details: { uri: shown, expected: st.total, actual: st.offset, offset: st.offset, stream: 'container' },
          });
        }
        yield c;
      }
      if (st.total === undefined || st.offset === st.total) return;
      // A clean end short of Content-Length: the server closed the connection early.
      why = new ForgeError('IMAGE_FETCH_FAILED', `connection closed after ${st.offset} of ${st.total} bytes`, {
        details: { uri: shown, offset: st.offset, total: st.total },
      });
    } catch (e) {
      if (isForgeError(e) || !(isRetryableError(e) || e instanceof StallError)) throw e;
      why = e;
    }
    // The connection dropped, stalled or crawled mid-stream: resume (or restart) after a pause.
    const reason = isForgeError(why) ? why.message : describeNetError(why);
    if (st.resumes >= o.fetch.resumeAttempts) {
      const stalled = why instanceof StallError ? why : undefined;
      throw new ForgeError(
        stalled ? 'IMAGE_STALLED' : 'IMAGE_FETCH_FAILED',
        `${o.what}: ${reason} at offset ${st.offset}${st.total ? ` of ${st.total}` : ''}, gave up after ${st.resumes} resumes`,
        { details: { uri: shown, offset: st.offset, total: st.total, resumes: st.resumes, reason, ...(stalled ? { limit: stalled.limit } : {}) }, cause: why },
      );
    }
    st.resumes++;
    const delay = backoffDelay(o.fetch, st.resumes);
    ctx.log.warn('image.resume', { uri: o.uri, offset: st.offset, total: st.total, attempt: st.resumes, delayMs: delay, reason });
    await ctx.clock.sleep(delay, ctx.signal);
    if (st.rangeUnsupported) throw new RestartRequired(st.offset, `connection lost (${reason}) and the server does not resume`);
  }
}
