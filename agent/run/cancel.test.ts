// System test (issue 13's done-criterion): the real `provision` CLI, run as a child
// process against a loop device, is sent SIGTERM while its image step streams from
// a throttled HTTP server. It must stop within seconds, exit 143, and print and save
// a report that stops at `images` with ABORTED; the same command, re-run with the
// server at full speed, then provisions the disk from scratch.
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyImage } from '../host/artifacts.js';
import type { BuiltImage } from '../host/image/build-image.js';
import { SIGNAL_EXIT_CODES } from '../core/signals.js';
import { singleDiskData, singleDiskInventory, singleDiskSizeMiB } from '../testing/single-disk.js';
import { createLoopDisk, findLeaks, type LoopDisk } from '../testing/loop-disks.js';
import type { ProvisionReport } from './provision-run.js';

const MiB = 1024 * 1024;
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'forge-cancel-'));
let disk: LoopDisk;
let image: BuiltImage;
let server: Server;
let baseUrl = '';
/** Bytes per second the image server sends while throttled; 0 = full speed. */
let throttle = 0;

/** Serves the image's directory (image + .meta.json), with Range, at `throttle` bytes/s when set. */
function serve(dir: string): Promise<void> {
  server = createServer((req, res) => {
    const file = join(dir, basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(start ? 206 : 200, {
      'content-length': size - start,
      'accept-ranges': 'bytes',
      ...(start ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const bps = throttle;
    if (!bps) {
      createReadStream(file, { start }).pipe(res);
      return;
    }
    // A slow link: one slice every 100 ms, so the image step lasts far longer than the test waits.
    const fd = createReadStream(file, { start, highWaterMark: Math.max(1, Math.floor(bps / 10)) });
    fd.on('data', (c) => {
      fd.pause();
      res.write(c);
      setTimeout(() => fd.resume(), 100);
    });
    fd.on('end', () => res.end());
    res.on('close', () => fd.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve();
  }));
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From SIGTERM to exit. */
  stopMs?: number;
}

/** `provision run …` as an operator starts it; `stopWhen` sees each stderr line and says when to send SIGTERM. */
function provision(args: string[], stopWhen?: (line: string) => boolean): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let sentAt: number | undefined;
  let partial = '';
  child.stdout.on('data', (c: Buffer) => void (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    const text = c.toString();
    stderr += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    if (sentAt === undefined && stopWhen && lines.some(stopWhen)) {
      sentAt = Date.now();
      child.kill('SIGTERM');
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ...(sentAt === undefined ? {} : { stopMs: Date.now() - sentAt }) }));
  });
}

/** A progress line after image bytes reached the disk: the run is mid-image. */
function midImage(line: string): boolean {
  if (!line.includes('"event":"image.progress"')) return false;
  const e = JSON.parse(line) as { bytes: number; done: boolean };
  return e.bytes >= 4 * MiB && !e.done;
}

beforeAll(async () => {
  image = await ensureTinyImage();
  await serve(dirname(image.path));
  const rootMiB = Math.ceil(image.meta.raw_size / MiB) + 128;
  // fuel-agent geometry: bios_grub, UEFI, /boot, /, swap, configdrive, each after a 1 MiB gap.
  const sizeMiB = singleDiskSizeMiB(rootMiB);
  disk = await createLoopDisk({ sizeMiB, tag: 'cancel' });
  writeFileSync(join(work, 'inventory.json'), JSON.stringify(singleDiskInventory(disk.device, sizeMiB)));
  // No digests in the data: the builder's .meta.json beside the image supplies them.
  const data = singleDiskData(disk.device, sizeMiB, rootMiB, `${baseUrl}/${basename(image.path)}`);
  writeFileSync(join(work, 'provision.json'), JSON.stringify(data));
}, 3_600_000);

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await disk?.dispose();
  rmSync(work, { recursive: true, force: true });
  expect(await findLeaks()).toEqual({ loops: [], vgs: [], mds: [] });
});

describe('provision run sent SIGTERM mid-image', () => {
  const args = (): string[] => [
    '--input', join(work, 'provision.json'), '--inventory', join(work, 'inventory.json'),
    '--log', join(work, 'provision.log'), '--report', join(work, 'report.json'),
  ];

  it('stops within seconds, exits 143 and reports stoppedAt images with ABORTED', async () => {
    throttle = 2 * MiB;
    const r = await provision(args(), midImage);
    expect(r.stopMs, r.stderr.slice(-3000)).toBeDefined();
    expect(r.stopMs!).toBeLessThan(5_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(SIGNAL_EXIT_CODES.SIGTERM);
    const printed = JSON.parse(r.stdout) as ProvisionReport;
    const saved = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8')) as ProvisionReport;
    for (const report of [printed, saved]) {
      expect(report.ok).toBe(false);
      expect(report.stoppedAt).toBe('images');
      expect(report.error?.code).toBe('ABORTED');
      expect(report.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['validate:ok', 'plan:ok', 'partition:ok', 'images:failed']);
    }
    expect(r.stderr).toMatch(/^error \[ABORTED\] /m);
    const log = readFileSync(join(work, 'provision.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.at(-1)).toMatchObject({ event: 'run.failed', stoppedAt: 'images', error: { code: 'ABORTED' } });
    // The half-written root was left unrecognisable: its head (superblock included) is zeros.
    const fh = await open(`${disk.device}p4`, 'r');
    const head = Buffer.alloc(64 * 1024);
    await fh.read(head, 0, head.length, 0);
    await fh.close();
    expect(head.equals(Buffer.alloc(head.length))).toBe(true);
  }, 120_000);

  it('re-running the same command provisions the disk from scratch', async () => {
    throttle = 0;
    const r = await provision(args());
    expect(r.code, r.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(r.stdout) as ProvisionReport;
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(report.images[0]).toMatchObject({ sha256: image.meta.raw_sha256, verified: true });
  }, 300_000);
});
