// `npm run bench`: our image pipeline against the raw shell pipe on the same 1 GiB
// image, served by the same local HTTP server, written to the same loop device, in
// one run. Not a test: it prints MB/s and the ratio ours/baseline (target >= 0.95).
//
//   curl -s URL | gunzip -c | dd of=DEV bs=4M oflag=direct      (the practical ceiling)
//   ours: http -> gunzip -> md5+sha256 -> writes, first MiB last, fsync
//   and for the uncompressed image: curl | dd, plain dd from the file, qemu-img convert.
//
// Our run happens in a child process so its peak RSS is its own.
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { ExecaRunner, type Runner } from '../core/runner.js';
import { createLoopDisk } from '../testing/loop-disks.js';
import { serveDir } from './file-server.js';
import { inspectTarget, openTarget } from './device.js';
import { DEFAULT_STREAM, streamImage } from './stream.js';
import { DEFAULT_FETCH, type ResolvedImage } from './types.js';

const MiB = 1 << 20;
const CACHE = join(process.env.FORGE_CACHE_DIR ?? '/var/cache/fuel-forge', 'bench');
const IMAGE_MIB = 1024;
const runner: Runner = new ExecaRunner();

/** A 1 GiB ext4 image: 256 MiB random (packages), 320 MiB text-like, the rest empty. */
async function buildImage(): Promise<{ raw: string; gz: string }> {
  const raw = join(CACHE, 'bench-1g.img');
  const gz = `${raw}.gz`;
  if (existsSync(raw) && existsSync(gz)) return { raw, gz };
  mkdirSync(CACHE, { recursive: true });
  const tree = join(CACHE, 'tree');
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree);
  const buf = Buffer.alloc(4 * MiB);
  for (let i = 0; i < 64; i++) writeFileSync(join(tree, `random-${i}.bin`), randomFillSync(buf));
  for (let i = 0; i < 80; i++) {
    randomFillSync(buf);
    // A 16-letter alphabet: about 2:1 under gzip, like text and binaries.
    for (let j = 0; j < buf.length; j++) buf[j] = 0x61 + ((buf[j] as number) & 0x0f);
    writeFileSync(join(tree, `text-${i}.txt`), buf);
  }
  process.stderr.write('bench: building the 1 GiB ext4 image (once, cached)\n');
  await runner.run(['mkfs.ext4', '-q', '-F', '-d', tree, '-L', 'bench', `${raw}.tmp`, `${IMAGE_MIB}M`]);
  const gzp = runner.spawn(['gzip', '-6', '-c', `${raw}.tmp`], { timeoutMs: 3_600_000 });
  gzp.stdin.end();
  await pipeline(gzp.stdout, createWriteStream(`${gz}.tmp`));
  await gzp.result;
  renameSync(`${raw}.tmp`, raw);
  renameSync(`${gz}.tmp`, gz);
  rmSync(tree, { recursive: true, force: true });
  return { raw, gz };
}

async function digest(file: string): Promise<{ md5: string; sha256: string }> {
  const [m, s] = await Promise.all([runner.run(['md5sum', file]), runner.run(['sha256sum', file])]);
  return { md5: m.stdout.split(' ')[0] ?? '', sha256: s.stdout.split(' ')[0] ?? '' };
}

/** Run argv stages with stdout piped to the next stage's stdin (no shell). */
async function pipe(stages: string[][]): Promise<number> {
  const t0 = performance.now();
  const procs = stages.map((argv) => runner.spawn(argv, { timeoutMs: 3_600_000 }));
  procs[0]?.stdin.end();
  for (let i = 0; i + 1 < procs.length; i++) (procs[i] as (typeof procs)[number]).stdout.pipe((procs[i + 1] as (typeof procs)[number]).stdin);
  procs.at(-1)?.stdout.resume();
  await Promise.all(procs.map((p) => p.result));
  return (performance.now() - t0) / 1000;
}

interface WorkerResult {
  seconds: number;
  bytes: number;
  md5: string;
  maxRssMiB: number;
}

/** Our pipeline, in this (child) process. */
async function worker(uri: string, device: string, container: 'gzip' | 'raw', md5: string, sha256: string, size: number): Promise<void> {
  const ctx = createCtx({ runner, log: createLogger([]) });
  const img: ResolvedImage = {
    uri, mount: '/', targetDevice: device, format: 'ext4', container, field: 'bench',
    expected: { raw: { md5, sha256, size }, container: {}, sources: ['bench'] }, verified: true,
  };
  const target = await inspectTarget(device, 'bench');
  const t0 = performance.now();
  const fh = await openTarget(device, 'bench');
  const r = await streamImage(ctx, img, { fh, name: device, capacity: target.size, holdHead: true }, { ...DEFAULT_STREAM, fetch: DEFAULT_FETCH });
  await fh.close();
  const seconds = (performance.now() - t0) / 1000;
  const out: WorkerResult = { seconds, bytes: r.bytes, md5: r.md5, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
  process.stdout.write(JSON.stringify(out) + '\n');
}

async function ours(uri: string, device: string, container: 'gzip' | 'raw', d: { md5: string; sha256: string }, size: number): Promise<WorkerResult> {
  const self = fileURLToPath(import.meta.url);
  const r = await runner.run(['node', '--import', 'tsx', self, '--worker', uri, device, container, d.md5, d.sha256, String(size)], { timeoutMs: 3_600_000 });
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
  if (res.md5 !== d.md5) throw new ForgeError('IMAGE_CHECKSUM_MISMATCH', `bench: our run wrote md5 ${res.md5}, expected ${d.md5}`);
  return res;
}

/** The first `size` bytes of the device equal the image file. */
async function sameAsImage(raw: string, device: string, size: number): Promise<boolean> {
  const r = await runner.run(['cmp', '-s', '-n', String(size), raw, device], { okExitCodes: [0, 1] });
  return r.exitCode === 0;
}

async function wipe(device: string): Promise<void> {
  const fh = await open(device, 'r+');
  await fh.write(Buffer.alloc(MiB), 0, MiB, 0);
  await fh.close();
  await runner.run(['blockdev', '--flushbufs', device]);
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const { raw, gz } = await buildImage();
  const size = IMAGE_MIB * MiB;
  const d = await digest(raw);
  const gzSize = stat(gz).then((s) => s.size);
  await using srv = await serveDir(CACHE);
  await using disk = await createLoopDisk({ sizeMiB: IMAGE_MIB + 64, tag: 'bench' });
  const dev = disk.device;
  const gzUrl = `${srv.url}/bench-1g.img.gz`;
  const rawUrl = `${srv.url}/bench-1g.img`;
  // Warm the page cache for both files so every run reads the server side from memory.
  await pipe([['cat', gz, raw], ['wc', '-c']]);
  const mbs = (s: number): number => size / MiB / s;
  const results: Record<string, number[]> = {};
  const add = (k: string, s: number): void => {
    (results[k] ??= []).push(s);
  };
  let peak = 0;
  for (let i = 0; i < rounds; i++) {
    await wipe(dev);
    add('baseline: curl | gunzip | dd oflag=direct', await pipe([['curl', '-sSf', gzUrl], ['gunzip', '-c'], ['dd', `of=${dev}`, 'bs=4M', 'oflag=direct', 'status=none']]));
    if (!(await sameAsImage(raw, dev, size))) throw new ForgeError('VERIFY_MISMATCH', 'bench: baseline wrote a different image');
    await wipe(dev);
    // Same pipe, but durable like ours: on a loop device our fsync also flushes the backing file.
    add('baseline + conv=fsync (same durability as ours)', await pipe([['curl', '-sSf', gzUrl], ['gunzip', '-c'], ['dd', `of=${dev}`, 'bs=4M', 'oflag=direct', 'conv=fsync', 'status=none']]));
    await wipe(dev);
    const o = await ours(gzUrl, dev, 'gzip', d, size);
    peak = Math.max(peak, o.maxRssMiB);
    add('ours: gzip over http, md5+sha256, fsync', o.seconds);
    if (!(await sameAsImage(raw, dev, size))) throw new ForgeError('VERIFY_MISMATCH', 'bench: our run wrote a different image');
    await wipe(dev);
    add('raw: curl | dd oflag=direct', await pipe([['curl', '-sSf', rawUrl], ['dd', `of=${dev}`, 'bs=4M', 'oflag=direct', 'status=none']]));
    await wipe(dev);
    add('ours: raw over http, md5+sha256, fsync', (await ours(rawUrl, dev, 'raw', d, size)).seconds);
    await wipe(dev);
    add('raw: dd if=FILE oflag=direct (local)', await pipe([['dd', `if=${raw}`, `of=${dev}`, 'bs=4M', 'oflag=direct', 'status=none']]));
    await wipe(dev);
    add('raw: qemu-img convert -O raw (local)', await pipe([['qemu-img', 'convert', '-n', '-f', 'raw', '-O', 'raw', '-t', 'none', raw, dev]]));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const lines = [`image: ${IMAGE_MIB} MiB ext4, gzip ${((await gzSize) / MiB).toFixed(0)} MiB; ${rounds} rounds, median MB/s (MiB/s)`];
  for (const [k, v] of Object.entries(results)) lines.push(`  ${k.padEnd(46)} ${mbs(median(v)).toFixed(0).padStart(6)}   [${v.map((s) => mbs(s).toFixed(0)).join(', ')}]`);
  const base = median(results['baseline: curl | gunzip | dd oflag=direct'] ?? [1]);
  const our = median(results['ours: gzip over http, md5+sha256, fsync'] ?? [1]);
  const rawBase = median(results['raw: curl | dd oflag=direct'] ?? [1]);
  const rawOur = median(results['ours: raw over http, md5+sha256, fsync'] ?? [1]);
  const durable = median(results['baseline + conv=fsync (same durability as ours)'] ?? [1]);
  lines.push(`  ratio ours/baseline+fsync (gzip): ${(durable / our).toFixed(2)}`);
  lines.push(`  ratio ours/baseline (gzip): ${(base / our).toFixed(2)}   (raw): ${(rawBase / rawOur).toFixed(2)}   target >= 0.95`);
  lines.push(`  peak RSS of our process (1 GiB image): ${peak} MiB`);
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[2] === '--worker') {
  const [, , , uri, device, container, md5, sha256, size] = process.argv;
  await worker(uri as string, device as string, container as 'gzip' | 'raw', md5 as string, sha256 as string, Number(size));
} else {
  await main();
}
