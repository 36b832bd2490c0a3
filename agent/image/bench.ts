// `npm run bench`: our image pipeline against the shell pipe on the same 1 GiB
// image, served by the same local HTTP server, written to the same loop device, in
// one run, for every container: raw, gzip, zstd, xz. Not a test: it prints MB/s,
// CPU seconds per GiB written, our peak RSS and `ratio <container>` = ours /
// durable baseline (target >= 0.95).
//
//   baseline:         curl -s URL | <decompressor> | dd of=DEV bs=4M oflag=direct
//   durable baseline: the same with conv=fsync (what ours guarantees: data on the device)
//   ours:             http -> decompress -> sha256 (a worker; the metadata's strongest digest) -> O_DIRECT writes, first MiB last, fsync
//
// Our run happens in a child process so its peak RSS is its own; it runs node with the
// agent's own flags (AGENT_NODE_FLAGS, as the ramdisk's launcher does). CPU time is the
// children's user+sys (getrusage RUSAGE_CHILDREN via /proc/self/stat) around each run.
import { childrenCpuSeconds } from '../host/children-cpu.js';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { randomFillSync } from 'node:crypto';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createCtx } from '../core/context.js';
import { AGENT_NODE_FLAGS } from '../core/node-flags.js';
import { ForgeError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { ExecaRunner, type Runner } from '../core/runner.js';
import { createLoopDisk } from '../testing/loop-disks.js';
import { serveDir } from './file-server.js';
import { inspectTarget, openDirect, openTarget } from './device.js';
import { DEFAULT_STREAM, streamImage } from './stream.js';
import { DEFAULT_FETCH, type ResolvedImage } from './types.js';

const MiB = 1 << 20;
const CACHE = join(process.env.FORGE_CACHE_DIR ?? '/var/cache/fuel-forge', 'bench');
const IMAGE_MIB = 1024;
const runner: Runner = new ExecaRunner();

/** A 1 GiB ext4 image: 256 MiB random (packages), 320 MiB text-like, the rest empty. */
async function buildImage(): Promise<{ raw: string; gz: string; zst: string; xz: string }> {
  const raw = join(CACHE, 'bench-1g.img');
  const files = { raw, gz: `${raw}.gz`, zst: `${raw}.zst`, xz: `${raw}.xz` };
  if (!existsSync(raw)) {
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
    renameSync(`${raw}.tmp`, raw);
    rmSync(tree, { recursive: true, force: true });
  }
  // The image builder's levels for each container (compress-file.ts: gzip -6, zstd -10, xz -6).
  const compressors: [string, string[]][] = [[files.gz, ['gzip', '-6', '-n', '-c', raw]], [files.zst, ['zstd', '-10', '-T0', '-q', '-c', raw]], [files.xz, ['xz', '-6', '-T0', '-c', raw]]];
  for (const [out, argv] of compressors) {
    if (existsSync(out)) continue;
    process.stderr.write(`bench: ${argv[0]} of the image (once, cached)\n`);
    const p = runner.spawn(argv, { timeoutMs: 3_600_000 });
    p.stdin.end();
    await pipeline(p.stdout, createWriteStream(`${out}.tmp`));
    await p.result;
    renameSync(`${out}.tmp`, out);
  }
  return files;
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
  /** The image's metadata gives md5 and sha256: ours computes sha256 only (stream.ts rawAlgos). */
  sha256: string;
  maxRssMiB: number;
  /** CPU seconds of the write itself: every thread of our process plus its decompressor (not tsx's start-up). */
  cpu: number;
}

/** Our pipeline, in this (child) process. */
type Container = 'raw' | 'gzip' | 'zstd' | 'xz';

async function worker(uri: string, device: string, container: Container, md5: string, sha256: string, size: number): Promise<void> {
  const ctx = createCtx({ runner, log: createLogger([]) });
  const img: ResolvedImage = {
    uri, mount: '/', targetDevice: device, format: 'ext4', container, field: 'bench',
    expected: { raw: { md5, sha256, size }, container: {}, sources: ['bench'] }, verified: true,
  };
  const target = await inspectTarget(device, 'bench');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const child0 = childrenCpuSeconds();
  const fh = await openTarget(device, 'bench');
  const direct = await openDirect(device);
  const r = await streamImage(ctx, img, { fh, direct, name: device, capacity: target.size, holdHead: true }, { ...DEFAULT_STREAM, fetch: DEFAULT_FETCH });
  await direct?.close();
  await fh.close();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6 + (childrenCpuSeconds() - child0);
  const out: WorkerResult = { seconds, bytes: r.bytes, sha256: r.sha256 ?? '', maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), cpu };
  process.stdout.write(JSON.stringify(out) + '\n');
}

async function ours(uri: string, device: string, container: Container, d: { md5: string; sha256: string }, size: number): Promise<WorkerResult> {
  const self = fileURLToPath(import.meta.url);
  // BENCH_NODE_ARGS: flags for our process only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = process.env['BENCH_NODE_ARGS']?.split(/\s+/).filter(Boolean) ?? [];
  const r = await runner.run(['node', ...AGENT_NODE_FLAGS, ...nodeArgs, '--import', 'tsx', self, '--worker', uri, device, container, d.md5, d.sha256, String(size)], { timeoutMs: 3_600_000 });
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as WorkerResult;
  if (res.sha256 !== d.sha256) throw new ForgeError('IMAGE_CHECKSUM_MISMATCH', `bench: our run wrote sha256 ${res.sha256}, expected ${d.sha256}`);
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

const DECOMPRESS: Record<Container, string[] | undefined> = { raw: undefined, gzip: ['gunzip', '-c'], zstd: ['zstd', '-dcq'], xz: ['xz', '-dc'] };
const FILE: Record<Container, 'raw' | 'gz' | 'zst' | 'xz'> = { raw: 'raw', gzip: 'gz', zstd: 'zst', xz: 'xz' };

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const containers = (process.env.BENCH_CONTAINERS?.split(',') ?? ['raw', 'gzip', 'zstd', 'xz']) as Container[];
  const files = await buildImage();
  const size = IMAGE_MIB * MiB;
  const d = await digest(files.raw);
  await using srv = await serveDir(CACHE);
  await using disk = await createLoopDisk({ sizeMiB: IMAGE_MIB + 64, tag: 'bench' });
  const dev = disk.device;
  // Warm the page cache for every file so every run reads the server side from memory.
  await pipe([['cat', ...Object.values(files)], ['wc', '-c']]);
  const secs: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  /** f returns seconds, and its own CPU seconds when it knows them better than RUSAGE_CHILDREN does. */
  const timed = async (k: string, f: () => Promise<number | { seconds: number; cpu: number }>): Promise<void> => {
    const c0 = childrenCpuSeconds();
    const r = await f();
    const own = typeof r === 'number' ? undefined : r.cpu;
    (secs[k] ??= []).push(typeof r === 'number' ? r : r.seconds);
    (cpu[k] ??= []).push(own ?? childrenCpuSeconds() - c0);
  };
  let peak = 0;
  for (let i = 0; i < rounds; i++) {
    for (const c of containers) {
      const url = `${srv.url}/${basename(files[FILE[c]])}`;
      const dec = DECOMPRESS[c];
      const base = (extra: string[]): string[][] => [['curl', '-sSf', url], ...(dec ? [dec] : []), ['dd', `of=${dev}`, 'bs=4M', 'oflag=direct', ...extra, 'status=none']];
      await wipe(dev);
      await timed(`${c}: baseline`, () => pipe(base([])));
      if (!(await sameAsImage(files.raw, dev, size))) throw new ForgeError('VERIFY_MISMATCH', `bench: baseline (${c}) wrote a different image`);
      await wipe(dev);
      await timed(`${c}: baseline + conv=fsync`, () => pipe(base(['conv=fsync'])));
      await wipe(dev);
      await timed(`${c}: ours`, async () => {
        const o = await ours(url, dev, c, d, size);
        peak = Math.max(peak, o.maxRssMiB);
        return { seconds: o.seconds, cpu: o.cpu };
      });
      if (!(await sameAsImage(files.raw, dev, size))) throw new ForgeError('VERIFY_MISMATCH', `bench: our run (${c}) wrote a different image`);
    }
    await wipe(dev);
    await timed('raw: dd if=FILE oflag=direct (local)', () => pipe([['dd', `if=${files.raw}`, `of=${dev}`, 'bs=4M', 'oflag=direct', 'status=none']]));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const mbs = (s: number): number => size / 1e6 / s;
  const sizes = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, ((await stat(f)).size / MiB).toFixed(0)])));
  const lines = [
    `image: ${IMAGE_MIB} MiB ext4 (gzip ${sizes['gz']} MiB, zstd ${sizes['zst']} MiB, xz ${sizes['xz']} MiB); ${rounds} rounds; median MB/s [each round], CPU s/GiB (user+sys, all processes)`,
  ];
  for (const [k, v] of Object.entries(secs)) {
    lines.push(`  ${k.padEnd(40)} ${mbs(median(v)).toFixed(0).padStart(6)} MB/s  [${v.map((x) => mbs(x).toFixed(0)).join(', ')}]   cpu ${(median(cpu[k] ?? [0]) / (size / 2 ** 30)).toFixed(2)} s/GiB`);
  }
  for (const c of containers) {
    const ours = median(secs[`${c}: ours`] ?? [1]);
    const durable = median(secs[`${c}: baseline + conv=fsync`] ?? [1]);
    const plain = median(secs[`${c}: baseline`] ?? [1]);
    lines.push(`  ratio ${c}: ${(durable / ours).toFixed(2)}   (vs dd oflag=direct without fsync: ${(plain / ours).toFixed(2)})   target >= 0.95`);
  }
  lines.push(`  peak RSS of our process (1 GiB image): ${peak} MiB`);
  process.stdout.write(lines.join('\n') + '\n');
}

if (process.argv[2] === '--worker') {
  const [, , , uri, device, container, md5, sha256, size] = process.argv;
  await worker(uri as string, device as string, container as Container, md5 as string, sha256 as string, Number(size));
} else {
  await main();
}
