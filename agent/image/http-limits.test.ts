// The HTTP client against slow-loris servers and URL credentials, on real sockets
// (node:http on 127.0.0.1; msw would not show what a trickled head does to the
// client's parser): a head sent one byte a second trips the header deadline, a body
// dripped one byte every 2 s trips the minimum rate, a slow but steady server and a
// slow consumer do not; user:password@ goes out as Basic auth and never into a message.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { isForgeError, type ForgeError } from '../core/errors.js';
import { createLogger, memorySink, type LogEvent } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { httpGet, readWithStall } from './http-client.js';
import { DEFAULT_STREAM, streamImage, type StreamResult } from './stream.js';
import type { FetchOptions, ResolvedImage } from './types.js';

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Small limits so each case takes seconds; rate checks off unless a case turns them on. */
const LIMITS: FetchOptions = {
  stallTimeoutMs: 3_000,
  headerTimeoutMs: 1_500,
  minBytesPerSec: 0,
  rateWindowMs: 0,
  connectAttempts: 2,
  resumeAttempts: 1,
  backoffMs: 10,
  maxBackoffMs: 20,
};

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

interface TestServer {
  base: string;
  port: number;
  requests: { path: string; range: string | undefined; auth: string | undefined }[];
}

let servers: Server[] = [];
const timers = new Set<NodeJS.Timeout>();
afterEach(async () => {
  for (const t of timers) clearInterval(t);
  timers.clear();
  await Promise.all(servers.map((s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())))));
  servers = [];
});

/** Every `ms`, call f until it returns false or the client goes away. */
function every(req: IncomingMessage, ms: number, f: () => boolean): void {
  const t = setInterval(() => {
    if (req.socket.destroyed || !f()) {
      clearInterval(t);
      timers.delete(t);
    }
  }, ms);
  timers.add(t);
  req.socket.once('close', () => {
    clearInterval(t);
    timers.delete(t);
  });
}

async function serve(handler: Handler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', range: req.headers.range, auth: req.headers.authorization });
    handler(req, res, requests.length);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { base: `http://127.0.0.1:${port}`, port, requests };
}

function image(uri: string, data: Buffer): ResolvedImage {
  return {
    uri, mount: '/', targetDevice: '/dev/test', format: 'raw', container: 'raw', field: 'ks_meta.image_data["/"]',
    expected: { raw: { md5: md5(data), size: data.length }, container: {}, sources: ['test'] }, verified: true,
  };
}

/** streamImage hashing only (no target), timed, with its log. */
async function fetchImage(img: ResolvedImage, fetch: FetchOptions): Promise<{ result?: StreamResult; error?: ForgeError; ms: number; events: LogEvent[] }> {
  const events: LogEvent[] = [];
  const ctx = createCtx({ runner: new RecordingRunner(), log: createLogger([memorySink(events)]) });
  const t0 = Date.now();
  try {
    const result = await streamImage(ctx, img, { fh: undefined, name: '/dev/test', capacity: undefined, holdHead: false }, { ...DEFAULT_STREAM, fetch });
    return { result, ms: Date.now() - t0, events };
  } catch (e) {
    if (!isForgeError(e)) throw e;
    return { error: e, ms: Date.now() - t0, events };
  }
}

/** Answer a GET of `data` honouring `Range: bytes=N-`, headers only; the caller sends the body. */
function head(req: IncomingMessage, res: ServerResponse, data: Buffer): number {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, {
    'content-length': data.length - start,
    ...(m ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
  });
  res.flushHeaders();
  return start;
}

describe('slow-loris servers', () => {
  it('a response head trickled one byte a second trips the header deadline, retried, then IMAGE_STALLED naming the URL', async () => {
    const data = randomBytes(64);
    const srv = await serve((req) => {
      // Raw bytes on the socket: a valid head, but one byte per second (the idle timer never fires).
      const text = `HTTP/1.1 200 OK\r\nContent-Length: ${data.length}\r\nX-Pad: ${'x'.repeat(40)}\r\n\r\n`;
      let i = 0;
      req.socket.write(text[i++] as string);
      every(req, 1_000, () => (req.socket.write(text[i++] as string), i < text.length));
    });
    const uri = `http://agent:hunter2@127.0.0.1:${srv.port}/os.img`;
    const r = await fetchImage(image(uri, data), LIMITS);
    expect(r.error?.code).toBe('IMAGE_STALLED');
    expect(r.error?.message).toContain(`image http://***@127.0.0.1:${srv.port}/os.img -> /dev/test`);
    expect(r.error?.message).toMatch(/header deadline: response head not complete 1\.5s after the request at offset 0, gave up after 2 attempts/);
    expect(r.error?.details).toMatchObject({ limit: 'header deadline', uri: `http://***@127.0.0.1:${srv.port}/os.img` });
    expect(JSON.stringify({ m: r.error?.message, d: r.error?.details, e: r.events })).not.toContain('hunter2');
    // Two attempts of 1.5 s each, not the ~60 s a 60-byte head at 1 byte/s would take.
    expect(srv.requests).toHaveLength(2);
    expect(r.ms).toBeGreaterThanOrEqual(2 * 1_500 - 50);
    expect(r.ms).toBeLessThan(6_000);
  });

  it('a body dripped one byte every 2 s trips the minimum rate, resumes with Range once, then IMAGE_STALLED', async () => {
    const data = randomBytes(4096);
    const srv = await serve((req, res) => {
      let at = head(req, res, data);
      res.write(data.subarray(at, ++at));
      every(req, 2_000, () => (res.write(data.subarray(at, ++at)), at < data.length));
    });
    const uri = `${srv.base}/os.img`;
    // Stall timer above the 2 s drip: only the rate can stop it (1 KiB/s over 1.5 s of waiting).
    const r = await fetchImage(image(uri, data), { ...LIMITS, minBytesPerSec: 1024, rateWindowMs: 1_500 });
    expect(r.error?.code).toBe('IMAGE_STALLED');
    expect(r.error?.message).toContain(`image ${uri} -> /dev/test: minimum rate: 1 bytes in the last 1.5s of waiting, below 1024 bytes/s`);
    expect(r.error?.message).toMatch(/at offset 2 of 4096, gave up after 1 resumes$/);
    expect(r.error?.details).toMatchObject({ limit: 'minimum rate', offset: 2, resumes: 1 });
    expect(srv.requests.map((q) => q.range)).toEqual([undefined, 'bytes=1-']);
    expect(r.events.find((e) => e.event === 'image.resume')).toMatchObject({ offset: 1, reason: expect.stringContaining('minimum rate') });
    // Two connections of ~1.5 s each (checked every 150 ms) instead of 2 h for 4 KiB.
    expect(r.ms).toBeGreaterThanOrEqual(2 * 1_500 - 50);
    expect(r.ms).toBeLessThan(6_000);
  });

  it('a slow but steady server above the minimum rate succeeds without a resume', async () => {
    const data = randomBytes(80 << 10);
    const srv = await serve((req, res) => {
      let at = head(req, res, data);
      // 2 KiB every 50 ms = 40 KiB/s, with one 600 ms pause half-way (under the 1 s stall timer). A 1 s
      // window over the pause still holds ~16 KiB: twice the 8 KiB/s minimum, so a loaded machine's
      // late timers (CI: the pause's window once held just under 16 KiB) do not trip it.
      let ticks = 0;
      every(req, 50, () => {
        if (++ticks >= 20 && ticks < 32) return true;
        res.write(data.subarray(at, (at += 2048)));
        if (at >= data.length) res.end();
        return at < data.length;
      });
    });
    const r = await fetchImage(image(`${srv.base}/os.img`, data), { ...LIMITS, stallTimeoutMs: 1_000, minBytesPerSec: 8 << 10, rateWindowMs: 1_000 });
    expect(r.error).toBeUndefined();
    expect(r.result).toMatchObject({ bytes: data.length, md5: md5(data), resumes: 0, restarts: 0 });
    expect(srv.requests).toHaveLength(1);
    expect(r.ms).toBeGreaterThan(2_000);
    expect(r.ms).toBeLessThan(8_000);
  });

  it('a slow consumer (disk, decompressor) does not count against the rate: only waiting on the network does', async () => {
    const data = randomBytes(96 << 10);
    const srv = await serve((req, res) => {
      let at = head(req, res, data);
      every(req, 20, () => {
        res.write(data.subarray(at, (at += 8192)));
        if (at >= data.length) res.end();
        return at < data.length;
      });
    });
    const ctx = createCtx({ runner: new RecordingRunner(), log: createLogger([]) });
    const res = await httpGet(new URL(`${srv.base}/os.img`), { stallTimeoutMs: 1_000, headerTimeoutMs: 1_000 });
    const t0 = Date.now();
    let n = 0;
    // The consumer takes in 40 KiB/s of wall time, under the 100 KiB/s minimum; the server sends 400 KiB/s.
    for await (const c of readWithStall(ctx, res, { stallTimeoutMs: 1_000, minBytesPerSec: 100 << 10, rateWindowMs: 200 })) {
      n += c.length;
      await sleep((c.length / (40 << 10)) * 1000);
    }
    expect(n).toBe(data.length);
    expect(Date.now() - t0).toBeGreaterThan(2_000);
  });
});

describe('URL credentials', () => {
  const user = 'agent';
  const password = 'p@ss w/rd:1';
  const encoded = `${user}:${encodeURIComponent(password)}`;
  const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const data = randomBytes(200_000);

  async function authServer(): Promise<TestServer> {
    return serve((req, res) => {
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="images"' }).end();
        return;
      }
      if (req.url !== '/os.img') {
        res.writeHead(404).end();
        return;
      }
      head(req, res, data);
      res.end(data);
    });
  }

  it('go out as Basic auth: the fetch from a server that requires it succeeds', async () => {
    const srv = await authServer();
    const r = await fetchImage(image(`http://${encoded}@127.0.0.1:${srv.port}/os.img`, data), LIMITS);
    expect(r.error).toBeUndefined();
    expect(r.result).toMatchObject({ bytes: data.length, md5: md5(data) });
    expect(srv.requests.map((q) => q.auth)).toEqual([basic]);
    // Progress lines carry the URI: redacted.
    expect(r.events.some((e) => e.event === 'image.progress')).toBe(true);
    expect(JSON.stringify(r.events)).not.toContain(encodeURIComponent(password));
  });

  it('never appear in an error message, its details or the log', async () => {
    const srv = await authServer();
    const secret = encodeURIComponent(password);
    const missing = await fetchImage(image(`http://${encoded}@127.0.0.1:${srv.port}/missing.img?token=t0k3n`, data), LIMITS);
    expect(missing.error?.code).toBe('IMAGE_FETCH_FAILED');
    expect(missing.error?.message).toBe(`image http://***@127.0.0.1:${srv.port}/missing.img?token=*** -> /dev/test: HTTP 404 Not Found at offset 0`);
    const wrong = await fetchImage(image(`http://${user}:nope@127.0.0.1:${srv.port}/os.img`, data), LIMITS);
    expect(wrong.error?.message).toContain('HTTP 401');
    const refused = await fetchImage(image(`http://${encoded}@127.0.0.1:1/os.img`, data), { ...LIMITS, connectAttempts: 1 });
    expect(refused.error?.message).toContain('http://***@127.0.0.1:1/os.img');
    for (const r of [missing, wrong, refused]) {
      const all = JSON.stringify({ message: r.error?.message, details: r.error?.details, json: r.error?.toJSON(), events: r.events });
      expect(all).not.toContain(secret);
      expect(all).not.toContain('nope');
      expect(all).not.toContain('t0k3n');
    }
  });
});
