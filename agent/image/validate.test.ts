// Validation runs before anything is written: scheme, container, format, target,
// and where each checksum comes from (image_data, <image>.meta.json, Fuel's yaml).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { ForgeErrors, type ForgeError } from '../core/errors.js';
import { createLogger, memorySink, type LogEvent } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import type { PlannedImage } from '../plan/types.js';
import { main } from '../cli.js';
import { digestsFromRecord, metadataUris } from './metadata.js';
import type { FetchOptions } from './types.js';
import { validateImages } from './validate.js';
import { reportedExpectations } from './write-images.js';

const FAST: FetchOptions = { stallTimeoutMs: 1_000, headerTimeoutMs: 5_000, minBytesPerSec: 0, rateWindowMs: 0, connectAttempts: 2, resumeAttempts: 1, backoffMs: 1, maxBackoffMs: 2 };
const MD5 = 'a'.repeat(32);
const SHA = 'b'.repeat(64);
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-validate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const img = (over: Partial<PlannedImage> = {}): PlannedImage => ({
  uri: 'http://master.test/imgs/root.img.gz', mount: '/', targetDevice: '/dev/sda3', format: 'ext4', container: 'gzip', ...over,
});

async function validate(images: PlannedImage[], allowUnverified = false): Promise<{ out?: Awaited<ReturnType<typeof validateImages>>; error?: ForgeError; events: LogEvent[]; runner: RecordingRunner }> {
  const events: LogEvent[] = [];
  const runner = new RecordingRunner();
  const ctx = createCtx({ runner, log: createLogger([memorySink(events)]) });
  try {
    return { out: await validateImages(ctx, images, { allowUnverified, fetch: FAST }), events, runner };
  } catch (e) {
    return { error: e as ForgeError, events, runner };
  }
}

const noMetadata = http.get(/master\.test/, () => new HttpResponse(null, { status: 404 }));

describe('image validation', () => {
  it('rejects unsupported schemes naming ks_meta.image_data["/"].uri, without any I/O', async () => {
    for (const uri of ['ftp://host/x.img', 'tftp://host/x.img', 'nfs://h/x', 'not a uri', 'file:///']) {
      const r = await validate([img({ uri })]);
      expect(r.error?.code, uri).toBe('IMAGE_URI_INVALID');
      expect(r.error?.field).toBe('ks_meta.image_data["/"].uri');
    }
  });

  it('reports every bad field at once: container, format, digest, duplicate target', async () => {
    const r = await validate([
      img({ container: 'bzip2' as never }),
      img({ mount: '/var', format: 'btrfs' as never, md5: 'xyz' }),
    ]);
    expect(r.error).toBeInstanceOf(ForgeErrors);
    const fields = (r.error as ForgeErrors).errors.map((e) => e.field);
    expect(fields).toEqual([
      'ks_meta.image_data["/"].container',
      'ks_meta.image_data["/var"].format',
      'ks_meta.image_data["/var"]',
      'ks_meta.image_data["/var"].md5',
    ]);
  });

  it('refuses an image with no checksum anywhere (IMAGE_UNVERIFIED), and allows it loudly when asked', async () => {
    server.use(noMetadata);
    const r = await validate([img()]);
    expect(r.error?.code).toBe('IMAGE_UNVERIFIED');
    expect(r.error?.message).toContain('--allow-unverified');
    const ok = await validate([img()], true);
    expect(ok.out?.[0]?.verified).toBe(false);
    const warn = ok.events.find((e) => e.event === 'image.UNVERIFIED');
    expect(warn).toMatchObject({ level: 'warn', uri: img().uri, device: '/dev/sda3' });
    expect(r.runner.calls).toEqual([]);
  });

  it('takes md5/sha256/size from image_data as the decompressed image', async () => {
    server.use(noMetadata);
    const r = await validate([img({ md5: MD5, sha256: SHA, size: 1234 })]);
    const data = [{ source: 'provision-data' }];
    expect(r.out?.[0]?.expected).toEqual({
      raw: { md5: MD5, sha256: SHA, size: 1234 },
      container: {},
      sources: ['image_data'],
      origins: { raw: { md5: data, sha256: data, size: data }, container: {} },
    });
    expect(r.out?.[0]?.verified).toBe(true);
  });

  it('reads <image>.meta.json (build-image: plain fields describe the file when raw_* are present)', async () => {
    server.use(http.get('http://master.test/imgs/root.img.gz.meta.json', () => HttpResponse.json({ uri: img().uri, format: 'ext4', container: 'gzip', size: 500, raw_size: 2000, md5: MD5, sha256: SHA })));
    const r = await validate([img()]);
    expect(r.error).toBeUndefined();
    const file = [{ source: 'metadata-file', url: 'http://master.test/imgs/root.img.gz.meta.json' }];
    expect(r.out?.[0]?.expected).toEqual({
      raw: { size: 2000 },
      container: { size: 500, md5: MD5, sha256: SHA },
      sources: ['http://master.test/imgs/root.img.gz.meta.json'],
      origins: { raw: { size: file }, container: { size: file, md5: file, sha256: file } },
    });
  });

  it('accepts image_data in the meta.json shape: agrees with the metadata beside the image, file digests kept apart', async () => {
    const meta = { uri: img().uri, format: 'ext4', container: 'gzip', size: 500, raw_size: 2000, md5: MD5, sha256: SHA, raw_md5: 'c'.repeat(32), raw_sha256: 'd'.repeat(64) };
    server.use(http.get('http://master.test/imgs/root.img.gz.meta.json', () => HttpResponse.json(meta)));
    const planned = img({ size: 2000, md5: 'c'.repeat(32), sha256: 'd'.repeat(64), file: { size: 500, md5: MD5, sha256: SHA } });
    const r = await validate([planned]);
    expect(r.error).toBeUndefined();
    const both = [{ source: 'provision-data' }, { source: 'metadata-file', url: 'http://master.test/imgs/root.img.gz.meta.json' }];
    expect(r.out?.[0]?.expected).toEqual({
      raw: { size: 2000, md5: 'c'.repeat(32), sha256: 'd'.repeat(64) },
      container: { size: 500, md5: MD5, sha256: SHA },
      sources: ['image_data', 'http://master.test/imgs/root.img.gz.meta.json'],
      origins: {
        raw: { size: both, md5: both, sha256: both },
        container: { size: both, md5: both, sha256: both },
      },
    });
    // The report sums it up: a digest from the data and from the file beside the image.
    expect(reportedExpectations(r.out![0]!)).toMatchObject({ digestSource: 'both', raw: { md5: { value: 'c'.repeat(32), sources: both } } });
    const clash = await validate([img({ file: { md5: 'e'.repeat(32) } })]);
    expect(clash.error).toMatchObject({ code: 'CONFIG_INVALID', field: 'ks_meta.image_data["/"].md5' });
  });

  it("falls back to Fuel's <name>.yaml and matches the entry by container_name", async () => {
    server.use(
      http.get('http://master.test/imgs/root.img.gz.meta.json', () => new HttpResponse(null, { status: 404 })),
      http.get('http://master.test/imgs/root.yaml', () =>
        HttpResponse.text(`images:\n- container_name: other.img.gz\n  raw_md5: ${'c'.repeat(32)}\n- container_name: root.img.gz\n  raw_md5: ${MD5}\n  raw_size: 4096\n  container: gzip\n  format: ext4\n`)),
    );
    const r = await validate([img()]);
    expect(r.out?.[0]?.expected.raw).toEqual({ md5: MD5, size: 4096 });
  });

  it('reads metadata beside file:// images and rejects disagreement with image_data', async () => {
    const path = join(dir, 'root.img.zst');
    writeFileSync(path, 'x');
    writeFileSync(`${path}.meta.json`, JSON.stringify({ raw_md5: MD5 }));
    const ok = await validate([img({ uri: `file://${path}`, container: 'zstd' })]);
    expect(ok.out?.[0]?.expected.raw).toEqual({ md5: MD5 });
    const bad = await validate([img({ uri: `file://${path}`, container: 'zstd', md5: 'd'.repeat(32) })]);
    expect(bad.error?.code).toBe('CONFIG_INVALID');
    expect(bad.error?.field).toBe('ks_meta.image_data["/"].md5');
    expect(bad.error?.message).toContain(MD5);
  });

  it('treats plain digests of a raw container as the image itself', () => {
    expect(digestsFromRecord({ md5: MD5, raw_size: 10 }, 'raw', 'x')).toEqual({ raw: { md5: MD5, size: 10 }, container: {} });
    expect(metadataUris('http://h/a/env_1.img.gz?x=1')).toEqual({ json: 'http://h/a/env_1.img.gz.meta.json?x=1', yaml: 'http://h/a/env_1.yaml' });
  });
});

describe('provision image (CLI)', () => {
  it('exits 2 on an unverified image and writes nothing', async () => {
    const planPath = join(dir, 'plan.json');
    const image = join(dir, 'plain.img');
    writeFileSync(image, 'not really an image');
    writeFileSync(planPath, JSON.stringify({
      version: 1, parteds: [], mds: [], pvs: [], vgs: [], lvs: [], fss: [],
      images: [{ uri: `file://${image}`, mount: '/', targetDevice: '/dev/null-target', format: 'ext4', container: 'raw' }],
      bootloader: { disks: [], bootDevice: '', rootDevice: '', kernelParams: '' },
    }));
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['image', '--plan', planPath], { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('IMAGE_UNVERIFIED');
  });
});
