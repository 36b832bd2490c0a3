// The HTTP client's fault handling, driven by msw (in-process, no sockets):
// statuses, retries, a reset mid-body resumed with Range, a server that ignores
// Range, a stalled drip, and bodies that do not match their checksum or size.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { createLogger, memorySink, type LogEvent } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { isForgeError, type ForgeError } from '../core/errors.js';
import { DEFAULT_STREAM, rawAlgos, streamImage } from './stream.js';
import type { Digests, FetchOptions, ResolvedImage } from './types.js';

const RAW = randomBytes(3 << 20);
// Half random, half zeros: gzip shrinks it but the deflate stream stays long.
RAW.fill(0, RAW.length / 2);
const GZ = gzipSync(RAW);
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const FAST: FetchOptions = { stallTimeoutMs: 2_000, headerTimeoutMs: 5_000, minBytesPerSec: 0, rateWindowMs: 0, connectAttempts: 3, resumeAttempts: 3, backoffMs: 1, maxBackoffMs: 5 };

interface Seen {
  range: string | null;
}
let seen: Seen[] = [];
const server = setupServer();

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  seen = [];
});
afterAll(() => server.close());

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-http-faults-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function image(uri: string, container: 'gzip' | 'raw', raw: Digests, wire: Digests = {}): ResolvedImage {
  return {
    uri, mount: '/', targetDevice: '/dev/test', format: 'ext4', container, field: 'ks_meta.image_data["/"]',
    expected: { raw, container: wire, sources: ['test'] }, verified: true,
  };
}

/** A body that sends `upTo` bytes of `data`, then dies like a reset connection. */
function dropAt(data: Buffer, start: number, upTo: number, total = data.length): HttpResponse<ReadableStream<Uint8Array> | Uint8Array> {
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(data.subarray(start, upTo)));
      setTimeout(() => c.error(new Error('connection reset by peer')), 5);
    },
  });
  const headers: Record<string, string> = { 'content-length': String(total - start) };
  if (start) headers['content-range'] = `bytes ${start}-${total - 1}/${total}`;
  return new HttpResponse(stream, { status: start ? 206 : 200, headers });
}

function full(data: Buffer, range: string | null, honourRange = true): HttpResponse<ReadableStream<Uint8Array> | Uint8Array> {
  const m = /^bytes=(\d+)-$/.exec(range ?? '');
  if (m && honourRange) {
    const start = Number(m[1]);
    return new HttpResponse(new Uint8Array(data.subarray(start)), {
      status: 206,
      headers: { 'content-length': String(data.length - start), 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` },
    });
  }
  return new HttpResponse(new Uint8Array(data), { headers: { 'content-length': String(data.length) } });
}

async function run(img: ResolvedImage, fetch: FetchOptions = FAST): Promise<{ result?: Awaited<ReturnType<typeof streamImage>>; error?: ForgeError; file: Buffer; events: LogEvent[] }> {
  const events: LogEvent[] = [];
  const ctx = createCtx({ runner: new RecordingRunner(), log: createLogger([memorySink(events)]) });
  const path = join(dir, `target-${Math.random().toString(36).slice(2)}`);
  // The "device" starts with an old signature-like head, to see it wiped on failure.
  const fh = await open(path, 'w+');
  await fh.write(Buffer.alloc(1 << 20, 0xee), 0, 1 << 20, 0);
  try {
    const result = await streamImage(ctx, img, { fh, name: path, capacity: 8 << 20, holdHead: true }, { ...DEFAULT_STREAM, fetch });
    return { result, file: await readFile(path), events };
  } catch (e) {
    if (!isForgeError(e)) throw e;
    return { error: e, file: await readFile(path), events };
  } finally {
    await fh.close();
  }
}

const URL_GZ = 'http://images.test/os.img.gz';

describe('image HTTP client under faults', () => {
  it('fails on 404 at once, naming the image, the offset and the status', async () => {
    server.use(http.get(URL_GZ, ({ request }) => {
      seen.push({ range: request.headers.get('range') });
      return new HttpResponse('no', { status: 404 });
    }));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW) }));
    expect(r.error?.code).toBe('IMAGE_FETCH_FAILED');
    expect(r.error?.message).toContain(URL_GZ);
    expect(r.error?.message).toContain('HTTP 404');
    expect(r.error?.message).toContain('offset 0');
    expect(seen).toHaveLength(1);
    expect(r.file.subarray(0, 1 << 20).every((b) => b === 0)).toBe(true);
  });

  it('retries a 500 (and a refused connection) with backoff, then succeeds', async () => {
    let n = 0;
    server.use(http.get(URL_GZ, ({ request }) => {
      seen.push({ range: request.headers.get('range') });
      n++;
      if (n === 1) return new HttpResponse('busy', { status: 500 });
      if (n === 2) return HttpResponse.error();
      return full(GZ, request.headers.get('range'));
    }));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW), sha256: sha256(RAW), size: RAW.length }));
    expect(r.error).toBeUndefined();
    expect(seen).toHaveLength(3);
    // md5 and sha256 given: the stronger one is computed and checked, md5 is not computed at all.
    expect(r.result?.sha256).toBe(sha256(RAW));
    expect(r.result?.md5).toBeUndefined();
    expect(r.file.subarray(0, RAW.length).equals(RAW)).toBe(true);
    expect(r.events.filter((e) => e.event === 'image.retry')).toHaveLength(2);
  });

  it('gives up after the connect attempts with the last reason', async () => {
    server.use(http.get(URL_GZ, () => new HttpResponse('down', { status: 503, statusText: 'Service Unavailable' })));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW) }));
    expect(r.error?.code).toBe('IMAGE_FETCH_FAILED');
    expect(r.error?.message).toMatch(/HTTP 503.*offset 0.*3 attempts/);
  });

  it('resumes with Range from the last byte received after a reset at 40%', async () => {
    const cut = Math.floor(GZ.length * 0.4);
    server.use(http.get(URL_GZ, ({ request }) => {
      const range = request.headers.get('range');
      seen.push({ range });
      return seen.length === 1 ? dropAt(GZ, 0, cut) : full(GZ, range);
    }));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW), sha256: sha256(RAW), size: RAW.length }, { md5: md5(GZ), size: GZ.length }));
    expect(r.error).toBeUndefined();
    expect(seen.map((s) => s.range)).toEqual([null, `bytes=${cut}-`]);
    expect(r.result).toMatchObject({ resumes: 1, restarts: 0, bytes: RAW.length, sha256: sha256(RAW), wireBytes: GZ.length });
    expect(r.file.subarray(0, RAW.length).equals(RAW)).toBe(true);
    const resume = r.events.find((e) => e.event === 'image.resume');
    expect(resume).toMatchObject({ offset: cut, total: GZ.length });
  });

  it('restarts from zero (fresh decompressor and hashes) when the server ignores Range', async () => {
    const cut = Math.floor(GZ.length * 0.4);
    server.use(http.get(URL_GZ, ({ request }) => {
      const range = request.headers.get('range');
      seen.push({ range });
      return seen.length === 1 ? dropAt(GZ, 0, cut) : full(GZ, range, false);
    }));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW), size: RAW.length }));
    expect(r.error).toBeUndefined();
    // Resume asked for a range, got 200, so the third request starts over without one.
    expect(seen.map((s) => s.range)).toEqual([null, `bytes=${cut}-`, null]);
    expect(r.result).toMatchObject({ restarts: 1, md5: md5(RAW), bytes: RAW.length });
    expect(r.file.subarray(0, RAW.length).equals(RAW)).toBe(true);
    expect(r.events.some((e) => e.event === 'image.restart')).toBe(true);
  });

  it('times out a stalled drip per read with IMAGE_STALLED, naming the offset', async () => {
    server.use(http.get(URL_GZ, ({ request }) => {
      seen.push({ range: request.headers.get('range') });
      const start = Number(/bytes=(\d+)-/.exec(request.headers.get('range') ?? '')?.[1] ?? 0);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          // One small chunk, then silence: slower than any stall limit.
          c.enqueue(new Uint8Array(GZ.subarray(start, start + 1000)));
        },
      });
      return new HttpResponse(stream, {
        status: start ? 206 : 200,
        headers: { 'content-length': String(GZ.length - start), ...(start ? { 'content-range': `bytes ${start}-${GZ.length - 1}/${GZ.length}` } : {}) },
      });
    }));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW) }), { ...FAST, stallTimeoutMs: 150, resumeAttempts: 1 });
    expect(r.error?.code).toBe('IMAGE_STALLED');
    expect(r.error?.message).toContain(URL_GZ);
    expect(r.error?.message).toMatch(/no data for 0\.15s at offset 2000/);
    // It tried once more from where it stopped before giving up.
    expect(seen.map((s) => s.range)).toEqual([null, 'bytes=1000-']);
    expect(r.file.subarray(0, 1 << 20).every((b) => b === 0)).toBe(true);
  });

  it('with md5 and sha256 given, a wrong sha256 fails even though md5 is right (the stronger one is what counts)', async () => {
    server.use(http.get(URL_GZ, ({ request }) => full(GZ, request.headers.get('range'))));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW), sha256: 'cd'.repeat(32) }));
    expect(r.error?.code).toBe('IMAGE_CHECKSUM_MISMATCH');
    expect(r.error?.details).toMatchObject({ algorithm: 'sha256', actual: sha256(RAW) });
  });

  it('fails a wrong checksum with both values and wipes the head of the target', async () => {
    server.use(http.get(URL_GZ, ({ request }) => full(GZ, request.headers.get('range'))));
    const wrong = 'ab'.repeat(32);
    const r = await run(image(URL_GZ, 'gzip', { sha256: wrong }));
    expect(r.error?.code).toBe('IMAGE_CHECKSUM_MISMATCH');
    expect(r.error?.details).toMatchObject({ algorithm: 'sha256', expected: wrong, actual: sha256(RAW), uri: URL_GZ });
    expect(r.error?.message).toContain(wrong);
    expect(r.error?.message).toContain(sha256(RAW));
    // Everything after the first MiB was written, the first MiB never was: nothing recognisable.
    expect(r.file.subarray(0, 1 << 20).every((b) => b === 0)).toBe(true);
    expect(r.file.subarray(1 << 20, RAW.length).equals(RAW.subarray(1 << 20))).toBe(true);
  });

  it('fails a body shorter or longer than its stated size with both values', async () => {
    server.use(http.get(URL_GZ, ({ request }) => full(GZ, request.headers.get('range'))));
    const short = await run(image(URL_GZ, 'gzip', { size: RAW.length + 4096, md5: md5(RAW) }));
    expect(short.error?.code).toBe('IMAGE_SIZE_MISMATCH');
    expect(short.error?.details).toMatchObject({ expected: RAW.length + 4096, actual: RAW.length });
    const long = await run(image(URL_GZ, 'gzip', { size: RAW.length - 4096, md5: md5(RAW) }));
    expect(long.error?.code).toBe('IMAGE_SIZE_MISMATCH');
    expect(long.error?.details).toMatchObject({ expected: RAW.length - 4096 });
    expect(long.file.subarray(0, 1 << 20).every((b) => b === 0)).toBe(true);
  });

  it('catches a truncated body against Content-Length as it arrives and against the metadata size', async () => {
    server.use(http.get(URL_GZ, () => new HttpResponse(new Uint8Array(GZ), { headers: { 'content-length': String(GZ.length) } })));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW) }, { size: GZ.length + 10 }));
    expect(r.error?.code).toBe('IMAGE_SIZE_MISMATCH');
    expect(r.error?.details).toMatchObject({ expected: GZ.length + 10, actual: GZ.length, stream: 'container' });
  });

  it('reports corrupt gzip data as IMAGE_CORRUPT with the offset', async () => {
    const bad = Buffer.from(GZ);
    bad.fill(0x55, 2000, 3000);
    server.use(http.get(URL_GZ, () => new HttpResponse(new Uint8Array(bad), { headers: { 'content-length': String(bad.length) } })));
    const r = await run(image(URL_GZ, 'gzip', { md5: md5(RAW) }));
    expect(r.error?.code).toBe('IMAGE_CORRUPT');
    expect(r.error?.message).toMatch(/gzip data is corrupt.*offset \d+/);
  });
});

describe('rawAlgos: the digests computed over the written bytes', () => {
  it('the SHA-2 digests given, md5 only when it is all there is, sha256 for the record when nothing is', () => {
    const m = 'a'.repeat(32);
    const s2 = 'b'.repeat(64);
    const s5 = 'c'.repeat(128);
    expect(rawAlgos({ md5: m, sha256: s2, size: 1 })).toEqual(['sha256']);
    expect(rawAlgos({ md5: m, sha256: s2, sha512: s5 })).toEqual(['sha256', 'sha512']);
    expect(rawAlgos({ md5: m, sha512: s5 })).toEqual(['sha512']);
    expect(rawAlgos({ md5: m })).toEqual(['md5']);
    expect(rawAlgos({ size: 10 })).toEqual(['sha256']);
    expect(rawAlgos({})).toEqual(['sha256']);
  });
});
