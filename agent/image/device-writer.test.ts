// A write that makes no progress is the target's fault: IMAGE_WRITE_FAILED, never
// reported as a download problem (issue 13; stream.ts used to classify it as a fetch).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { isForgeError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { DeviceWriter, writeAll } from './device-writer.js';
import { DEFAULT_STREAM, streamImage } from './stream.js';
import { DEFAULT_FETCH, type ResolvedImage } from './types.js';

/** A target that accepts `accept` bytes in all, then none: a device that stopped taking writes. */
function stuckTarget(accept: number): { fh: FileHandle; written: () => number } {
  let written = 0;
  const fh = {
    writev: async (bufs: Buffer[]) => {
      const want = bufs.reduce((n, b) => n + b.length, 0);
      const n = Math.min(want, Math.max(0, accept - written), 4096);
      written += n;
      return { bytesWritten: n, buffers: bufs };
    },
    sync: async () => undefined,
  };
  return { fh: fh as unknown as FileHandle, written: () => written };
}

const dir = mkdtempSync(join(tmpdir(), 'forge-short-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a short write that makes no progress', () => {
  it('is IMAGE_WRITE_FAILED from writeAll, after retrying the short writes that did progress', async () => {
    const t = stuckTarget(10_000);
    const e = await writeAll(t.fh, [Buffer.alloc(8192), Buffer.alloc(8192)], 1 << 20, 'image x -> /dev/sdz3').catch((x: unknown) => x);
    expect(isForgeError(e) && [e.code, e.message]).toEqual(['IMAGE_WRITE_FAILED', `image x -> /dev/sdz3: short write at device offset ${(1 << 20) + 10_000}: no progress`]);
    expect(t.written()).toBe(10_000);
  });

  it('fails the image with IMAGE_WRITE_FAILED, not IMAGE_FETCH_FAILED', async () => {
    const file = join(dir, 'img.raw');
    writeFileSync(file, Buffer.alloc(3 << 20, 7));
    const img: ResolvedImage = {
      uri: pathToFileURL(file).href, mount: '/', targetDevice: '/dev/sdz3', format: 'raw', container: 'raw',
      expected: { raw: {}, container: {}, sources: [] }, verified: false, field: 'ks_meta.image_data["/"]',
    };
    const ctx = createCtx({ runner: new RecordingRunner(), log: silentLogger });
    const t = stuckTarget(1 << 20);
    const e = await streamImage(ctx, img, { fh: t.fh, name: '/dev/sdz3', capacity: 64 << 20, holdHead: false }, { ...DEFAULT_STREAM, blockBytes: 1 << 20, fetch: DEFAULT_FETCH }).catch((x: unknown) => x);
    expect(isForgeError(e) && e.code).toBe('IMAGE_WRITE_FAILED');
    expect((e as Error).message).toMatch(/^image file:\/\/\S+ -> \/dev\/sdz3: short write at device offset \d+: no progress$/);
  });
});

describe('DeviceWriter: blocks hashed in workers, aligned writes through O_DIRECT, the head held back', () => {
  /** A handle that records writev calls into a byte array (a device in memory). */
  function memTarget(size: number, o: { failWith?: string; failAfterMs?: number } = {}): { fh: FileHandle; bytes: Buffer; calls: { pos: number; len: number }[] } {
    const bytes = Buffer.alloc(size);
    const calls: { pos: number; len: number }[] = [];
    const fh = {
      writev: async (bufs: Buffer[], pos: number) => {
        if (o.failAfterMs) await new Promise((r) => setTimeout(r, o.failAfterMs));
        if (o.failWith) throw Object.assign(new Error(o.failWith), { code: o.failWith });
        let at = pos;
        for (const b of bufs) {
          b.copy(bytes, at);
          at += b.length;
        }
        calls.push({ pos, len: at - pos });
        return { bytesWritten: at - pos, buffers: bufs };
      },
    };
    return { fh: fh as unknown as FileHandle, bytes, calls };
  }

  async function run(input: Buffer, chunk: number, o: { headBytes: number; direct?: ReturnType<typeof memTarget> }) {
    const t = memTarget(input.length + (8 << 20));
    const w = new DeviceWriter(t.fh, { headBytes: o.headBytes, blockBytes: 64 << 10, maxInFlight: 3, algos: ['md5', 'sha256'], onData: () => undefined, direct: o.direct?.fh });
    const src = Readable.from((function* () {
      for (let i = 0; i < input.length; i += chunk) yield input.subarray(i, i + chunk);
    })());
    await pipeline(src, w);
    const digests = await w.digests();
    await w.close();
    return { t, w, digests };
  }

  const sum = (a: string, b: Buffer): string => createHash(a).update(b).digest('hex');

  it('hashes exactly the bytes given, in order, whatever the chunk and image sizes (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 1, max: 200_000 }), fc.constantFrom(0, 4096, 65536), fc.integer(), async (size, chunk, headBytes, seed) => {
      const input = Buffer.alloc(size);
      for (let i = 0; i < size; i++) input[i] = (seed + i * 31 + (i >> 9)) & 0xff;
      const { t, w, digests } = await run(input, chunk, { headBytes });
      expect(digests).toEqual({ md5: sum('md5', input), sha256: sum('sha256', input) });
      // Everything after the head is on the target; the head is held back, not written.
      expect(t.bytes.subarray(headBytes, size).equals(input.subarray(headBytes))).toBe(true);
      expect(t.calls.some((c) => c.pos < headBytes)).toBe(false);
      expect(w.head.equals(input.subarray(0, Math.min(headBytes, size)))).toBe(true);
    }), { numRuns: 25 });
  });

  it('writes whole aligned sectors through the direct handle and only a last partial sector through the other', async () => {
    const input = Buffer.alloc((200 << 10) + 1234, 9);
    const direct = memTarget(input.length + (8 << 20));
    const { t } = await run(input, 50_000, { headBytes: 4096, direct });
    expect(direct.calls.length).toBeGreaterThan(2);
    expect(direct.calls.every((c) => c.pos % 4096 === 0 && c.len % 4096 === 0)).toBe(true);
    expect(t.calls).toEqual([{ pos: 4096 + (input.length - 4096) - 1234, len: 1234 }]);
    const merged = Buffer.from(direct.bytes);
    t.bytes.copy(merged, t.calls[0]?.pos ?? 0, t.calls[0]?.pos ?? 0, input.length);
    expect(merged.subarray(4096, input.length).equals(input.subarray(4096))).toBe(true);
  });

  it('falls back to buffered writes when the device refuses direct I/O (EINVAL)', async () => {
    const input = Buffer.alloc(300_000, 3);
    const direct = memTarget(1 << 20, { failWith: 'EINVAL' });
    const { t, digests } = await run(input, 70_000, { headBytes: 0, direct });
    expect(t.bytes.subarray(0, input.length).equals(input)).toBe(true);
    expect(digests.md5).toBe(sum('md5', input));
  });

  it('a direct write failing otherwise (EIO) fails the stream — also when later blocks wait for a slot the failed one held', async () => {
    // Slow to fail: the writer has filled every slot and waits for one when the failures arrive.
    const direct = memTarget(4 << 20, { failWith: 'EIO', failAfterMs: 200 });
    // 2 MB in 64 KiB blocks through 4 slots: the writer must not wait forever for the failed block's slot.
    await expect(run(Buffer.alloc(2_000_000, 3), 70_000, { headBytes: 0, direct })).rejects.toMatchObject({
      code: 'IMAGE_WRITE_FAILED',
      message: expect.stringMatching(/write of \d+ bytes at device offset \d+ failed: EIO$/),
      details: expect.objectContaining({ errno: 'EIO' }),
    });
  }, 10_000);
});
