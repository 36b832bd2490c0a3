// writeImages on real loop devices: real ext4/xfs/qcow2 images built here, served
// by a real HTTP server on 127.0.0.1, written to partitions larger than the image,
// then mounted and compared file by file. A corrupt image must leave nothing mountable.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCtx, type Ctx } from '../core/context.js';
import { createLogger, memorySink, type LogEvent } from '../core/log.js';
import { ExecaRunner } from '../core/runner.js';
import { isForgeError, type ForgeError } from '../core/errors.js';
import { PLAN_VERSION, type Plan, type PlannedImage } from '../plan/types.js';
import { createLoopDisk, findLeaks, LOOP_FILE_PREFIX, type LoopDisk } from '../testing/loop-disks.js';
import { serveDir, type FileServer } from './file-server.js';
import { writeImages, type WriteImagesOptions } from './write-images.js';

const runner = new ExecaRunner();
const MiB = 1 << 20;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const md5file = (p: string): string => createHash('md5').update(readFileSync(p)).digest('hex');

let work: string;
let srv: FileServer;
let disk: LoopDisk;
const files: Record<string, Buffer> = {
  'hello.txt': Buffer.from('hello from the image\n'),
  'etc/fstab': Buffer.from('# empty\n'),
  'data/random.bin': randomBytes(3 * MiB),
};

function plan(images: PlannedImage[]): Plan {
  return {
    version: PLAN_VERSION, parteds: [], mds: [], pvs: [], vgs: [], lvs: [], fss: [], images,
    bootloader: { disks: [], bootDevice: '', rootDevice: '', kernelParams: '' },
  };
}

async function partNode(dev: string, n: number): Promise<string> {
  const node = `${dev}p${n}`;
  for (let i = 0; i < 100 && !existsSync(node); i++) {
    if (i % 10 === 0) await runner.run(['partprobe', dev], { okExitCodes: [0, 1] });
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!existsSync(node)) throw new Error(`${node} did not appear`);
  return node;
}

async function run(images: PlannedImage[], o: WriteImagesOptions = {}): Promise<{ reports?: Awaited<ReturnType<typeof writeImages>>; error?: ForgeError; events: LogEvent[] }> {
  const events: LogEvent[] = [];
  const ctx: Ctx = createCtx({ runner, log: createLogger([memorySink(events)]) });
  try {
    return { reports: await writeImages(ctx, plan(images), o), events };
  } catch (e) {
    if (!isForgeError(e)) throw e;
    return { error: e, events };
  }
}

/** Mount read-only, hand the mount point to f, always unmount. */
async function withMount<T>(dev: string, f: (dir: string) => Promise<T>, type?: string): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-mnt-'));
  await runner.run(['mount', '-o', type === 'xfs' ? 'ro,nouuid' : 'ro', dev, dir]);
  try {
    return await f(dir);
  } finally {
    await runner.run(['umount', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function signature(dev: string): Promise<string> {
  // Filesystem and partition-table tags only: a partition always carries its own PART_ENTRY_* facts.
  const out = (await runner.run(['blkid', '-p', '-o', 'export', dev], { okExitCodes: [0, 2] })).stdout;
  return out.split('\n').filter((l) => /^(TYPE|UUID|PTTYPE|LABEL)=/.test(l)).join('\n');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'forge-image-it-'));
  const tree = join(work, 'tree');
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(tree, name, '..'), { recursive: true });
    writeFileSync(join(tree, name), data);
  }
  const www = join(work, 'www');
  mkdirSync(www);
  const raw = join(www, 'root.img');
  await runner.run(['mkfs.ext4', '-q', '-F', '-d', tree, '-L', 'imgroot', raw, '24M']);
  await runner.run(['gzip', '-k', '-f', raw]);
  await runner.run(['xz', '-k', '-f', '-T1', '-1', raw]);
  await runner.run(['zstd', '-q', '-k', '-f', raw]);
  srv = await serveDir(www);
  disk = await createLoopDisk({ sizeMiB: 512, tag: 'image' });
  await runner.run(['sgdisk', '-n', '1:2048:+64M', '-n', '2:0:+340M', disk.device]);
  await partNode(disk.device, 2);
});

afterAll(async () => {
  await srv?.close();
  await disk?.dispose();
  rmSync(work, { recursive: true, force: true });
  // Only this file's disks (tag 'image'): other suites may hold loop devices while developers work in parallel.
  const leaks = await findLeaks();
  const list = JSON.parse((await runner.run(['losetup', '--list', '--json', '-O', 'NAME,BACK-FILE'])).stdout || '{"loopdevices":[]}') as { loopdevices: { name: string; 'back-file': string | null }[] };
  const ours = list.loopdevices.filter((l) => (l['back-file'] ?? '').includes(`${LOOP_FILE_PREFIX}image-`)).map((l) => l.name);
  expect({ ...leaks, loops: leaks.loops.filter((l) => ours.includes(l)) }).toEqual({ loops: [], vgs: [], mds: [] });
});

describe('writeImages on loop devices', () => {
  const rawPath = (): string => join(work, 'www', 'root.img');

  for (const [container, ext] of [['gzip', '.gz'], ['xz', '.xz'], ['zstd', '.zst']] as const) {
    it(`writes a ${container} ext4 image onto a larger partition, verified, grown, with its UUID`, async () => {
      const p1 = `${disk.device}p1`;
      const r = await run([{ uri: `${srv.url}/root.img${ext}`, mount: '/', targetDevice: p1, format: 'ext4', container, md5: md5file(rawPath()), size: 24 * MiB }]);
      expect(r.error).toBeUndefined();
      const rep = r.reports?.[0];
      expect(rep).toMatchObject({ device: p1, bytes: 24 * MiB, md5: md5file(rawPath()), verified: true, grown: true });
      const data = [{ source: 'provision-data' }];
      expect(rep?.expected).toEqual({ raw: { md5: { value: md5file(rawPath()), sources: data }, size: { value: 24 * MiB, sources: data } }, container: {}, digestSource: 'provision-data' });
      const imgUuid = (await runner.run(['blkid', '-p', '-o', 'value', '-s', 'UUID', rawPath()])).stdout.trim();
      expect(rep?.uuid).toBe(imgUuid);
      await withMount(p1, async (dir) => {
        for (const [name, data] of Object.entries(files)) expect(sha(readFileSync(join(dir, name)))).toBe(sha(data));
        const st = await statfs(dir);
        // 64 MiB partition, 24 MiB image: grown well past the image.
        expect(st.blocks * st.bsize).toBeGreaterThan(50 * MiB);
      });
      expect(r.events.some((e) => e.event === 'image.progress' && e.done === true && e.bytes === 24 * MiB)).toBe(true);
    });
  }

  it('takes checksums from <image>.meta.json beside the image, and the report says so (URL credentials redacted)', async () => {
    const p1 = `${disk.device}p1`;
    const gzSha = createHash('sha256').update(readFileSync(`${rawPath()}.gz`)).digest('hex');
    writeFileSync(join(work, 'www', 'root.img.gz.meta.json'), JSON.stringify({ container: 'gzip', format: 'ext4', raw_size: 24 * MiB, sha256: gzSha }));
    try {
      // serveDir ignores auth: this only shows where the credentials must not show up.
      const withCreds = srv.url.replace('http://', 'http://agent:S3cretPw@');
      const r = await run([{ uri: `${withCreds}/root.img.gz`, mount: '/', targetDevice: p1, format: 'ext4', container: 'gzip' }]);
      expect(r.error).toBeUndefined();
      const shown = srv.url.replace('http://', 'http://***@');
      // Only the file's sha256 is expected: the written bytes get a sha256 for the record, no md5.
      const rawSha = createHash('sha256').update(readFileSync(rawPath())).digest('hex');
      expect(r.reports?.[0]).toMatchObject({ verified: true, bytes: 24 * MiB, sha256: rawSha, uri: `${shown}/root.img.gz` });
      expect(r.reports?.[0]?.md5).toBeUndefined();
      const file = [{ source: 'metadata-file', url: `${shown}/root.img.gz.meta.json` }];
      expect(r.reports?.[0]?.expected).toEqual({
        raw: { size: { value: 24 * MiB, sources: file } },
        container: { sha256: { value: gzSha, sources: file } },
        digestSource: 'metadata-file',
      });
      expect(JSON.stringify([r.reports, r.events])).not.toContain('S3cretPw');
    } finally {
      rmSync(join(work, 'www', 'root.img.gz.meta.json'));
    }
  });

  it('refuses an image with no checksum anywhere before touching the target', async () => {
    const p1 = `${disk.device}p1`;
    const before = await signature(p1);
    expect(before).toContain('TYPE=ext4');
    const r = await run([{ uri: `${srv.url}/root.img.zst`, mount: '/', targetDevice: p1, format: 'ext4', container: 'zstd' }]);
    expect(r.error?.code).toBe('IMAGE_UNVERIFIED');
    expect(r.error?.field).toBe('ks_meta.image_data["/"]');
    expect(await signature(p1)).toBe(before);
  });

  it('never leaves a mountable filesystem behind a corrupt image', async () => {
    const p1 = `${disk.device}p1`;
    // p1 holds a good filesystem from the tests above.
    expect(await signature(p1)).toContain('TYPE=ext4');
    const bad = readFileSync(rawPath());
    bad[20 * MiB] = (bad[20 * MiB] as number) ^ 0xff;
    writeFileSync(join(work, 'www', 'bad.img'), bad);
    const r = await run([{ uri: `${srv.url}/bad.img`, mount: '/', targetDevice: p1, format: 'ext4', container: 'raw', md5: md5file(rawPath()) }]);
    expect(r.error?.code).toBe('IMAGE_CHECKSUM_MISMATCH');
    expect(r.error?.details).toMatchObject({ expected: md5file(rawPath()), actual: createHash('md5').update(bad).digest('hex') });
    expect(await signature(p1)).toBe('');
    const dir = mkdtempSync(join(tmpdir(), 'forge-mnt-'));
    const m = await runner.run(['mount', '-o', 'ro', p1, dir], { okExitCodes: [0, 32] });
    if (m.exitCode === 0) await runner.run(['umount', dir]);
    rmSync(dir, { recursive: true });
    expect(m.exitCode).toBe(32);
  });

  it('wipes the target when a compressed image is truncated', async () => {
    const p1 = `${disk.device}p1`;
    const gz = readFileSync(`${rawPath()}.gz`);
    writeFileSync(join(work, 'www', 'cut.img.gz'), gz.subarray(0, Math.floor(gz.length * 0.7)));
    const r = await run([{ uri: `${srv.url}/cut.img.gz`, mount: '/', targetDevice: p1, format: 'ext4', container: 'gzip', md5: md5file(rawPath()) }]);
    expect(r.error?.code).toBe('IMAGE_CORRUPT');
    expect(r.error?.message).toContain('cut.img.gz');
    expect(await signature(p1)).toBe('');
  });

  it('writes an xfs image, checks it and grows it on a temporary mount', async () => {
    const p2 = `${disk.device}p2`;
    const xfs = join(work, 'www', 'root.xfs');
    const fh = await open(xfs, 'w');
    await fh.truncate(300 * MiB);
    await fh.close();
    await runner.run(['mkfs.xfs', '-q', '-f', '-L', 'xfsroot', xfs]);
    await runner.run(['zstd', '-q', '-f', xfs]);
    const uuid = (await runner.run(['blkid', '-p', '-o', 'value', '-s', 'UUID', xfs])).stdout.trim();
    const r = await run([{ uri: `${srv.url}/root.xfs.zst`, mount: '/var', targetDevice: p2, format: 'xfs', container: 'zstd', md5: md5file(xfs) }]);
    expect(r.error).toBeUndefined();
    expect(r.reports?.[0]).toMatchObject({ uuid, grown: true, bytes: 300 * MiB });
    await withMount(p2, async (dir) => {
      const st = await statfs(dir);
      // xfs keeps ~50 MiB of a fresh 300 MiB fs to itself: ungrown it reports ~249 MiB, grown to 340 MiB ~289 MiB.
      expect(st.blocks * st.bsize).toBeGreaterThan(275 * MiB);
    }, 'xfs');
  });

  it('converts a whole-disk qcow2 image with qemu-img and moves the backup GPT to the end', async () => {
    await using whole = await createLoopDisk({ sizeMiB: 96, tag: 'image' });
    const rawDisk = join(work, 'disk.raw');
    const fh = await open(rawDisk, 'w');
    await fh.truncate(40 * MiB);
    await fh.close();
    await runner.run(['sgdisk', '-n', '1:2048:+24M', rawDisk]);
    const ext4 = readFileSync(rawPath());
    const dfh = await open(rawDisk, 'r+');
    await dfh.write(ext4, 0, ext4.length, MiB);
    await dfh.close();
    const qcow = join(work, 'www', 'disk.qcow2');
    await runner.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', rawDisk, qcow]);
    await runner.run(['gzip', '-k', '-f', qcow]);
    const r = await run([{ uri: `${srv.url}/disk.qcow2.gz`, mount: '/', targetDevice: whole.device, format: 'qcow2', container: 'gzip', md5: md5file(qcow) }]);
    expect(r.error).toBeUndefined();
    expect(r.reports?.[0]).toMatchObject({ verified: true, grown: true });
    const p = await runner.run(['sgdisk', '-p', whole.device]);
    // 96 MiB of 512-byte sectors: the last usable sector sits right before the backup GPT at the end.
    expect(p.stdout).toMatch(/last usable sector is 196574/);
    expect((await runner.run(['sgdisk', '-v', whole.device])).stdout).toContain('No problems found');
    const p1 = await partNode(whole.device, 1);
    await withMount(p1, async (dir) => {
      expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).toBe(files['hello.txt']?.toString());
    });
  });
});
