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
import { writeAll } from './device-writer.js';
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
