// System tests: real loop devices, real sgdisk/mkfs/LVM (PV/VG only: this host has
// no device-mapper, so LVs and MD live in the VM and unit tests).
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { ExecaRunner, ToolError, type RunOptions, type RunResult, type Runner, type StreamingProcess } from '../core/runner.js';
import { createLoopDisk, createLoopDisks, LOOP_FILE_PREFIX } from '../testing/loop-disks.js';
import { MountStack } from '../tools/mount.js';
import { readPartitionTable } from '../tools/sfdisk.js';
import { listVgs } from '../tools/lvm.js';
import { verifyPlan } from '../verify/verify.js';
import { formatDiff } from '../verify/compare.js';
import { executePartitioning } from './execute.js';
import { ownLeaks, partDevice, testPlan, type TestPart } from './test-layouts.js';

const ctx = () => createCtx({ log: silentLogger });
const tag = randomBytes(3).toString('hex');

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function layoutA(vg: string): { parts: TestPart[]; vg: string } {
  return {
    vg,
    parts: [
      { size: 1, flags: ['bios_grub'], name: 'bios_grub' },
      { size: 64, flags: ['esp'], name: 'esp', fs: { type: 'vfat', label: 'EFI', mount: '/boot/efi' } },
      { size: 128, flags: ['boot'], name: 'boot', fs: { type: 'ext4', label: 'boot', mount: '/boot' } },
      { size: 320, name: 'root', fs: { type: 'xfs', label: 'root', mount: '/' } },
      { size: 48, name: 'swap', fs: { type: 'swap', label: 'swap1' } },
      { size: 40, flags: ['lvm'], name: `pv-${vg}` },
      { size: 32, name: 'ext2', fs: { type: 'ext2', label: 'old2' } },
      { size: 32, name: 'ext3', fs: { type: 'ext3', label: 'old3' } },
    ],
  };
}

function layoutB(): TestPart[] {
  return [
    { size: 1, flags: ['bios_grub'], name: 'bios_grub' },
    { size: 24, name: 'boot', fs: { type: 'ext2', label: 'bootB' } },
    { size: 300, name: 'var', fs: { type: 'ext4', label: 'var' }, gapBefore: 7 },
    { size: 330, name: 'root', fs: { type: 'xfs', label: 'rootB', mount: '/' } },
    { size: 100, name: 'data', fs: { type: 'vfat', label: 'DATA' } },
  ];
}

function withPv(plan: ReturnType<typeof testPlan>, device: string, vg: string): ReturnType<typeof testPlan> {
  return { ...plan, pvs: [{ device, vg, metadataSize: 8, keepData: false }], vgs: [{ name: vg, pvs: [device], keepData: false }] };
}

async function expectVerified(plan: ReturnType<typeof testPlan>): Promise<void> {
  const res = await verifyPlan(ctx(), plan);
  expect(formatDiff(res.items)).toBe('');
  expect(res.ok).toBe(true);
}

describe('executePartitioning on loop devices', () => {
  afterAll(async () => {
    expect(await ownLeaks(['part', 'keep', 'small', 'gone', 'fail'])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  for (const sectorSize of [512, 4096] as const) {
    it(`GPT + ext2/3/4, xfs, vfat, swap, PV/VG with ${sectorSize}-byte sectors, then a different layout over it`, async () => {
      await using disk = await createLoopDisk({ sizeMiB: 1024, sectorSize, tag: 'part' });
      const vg = `ff3a${tag}${sectorSize}`;
      const a = layoutA(vg);
      const planA = withPv(testPlan([{ device: disk.device, sizeMiB: 1024, sectorSize, parts: a.parts }]), partDevice(disk.device, 6), vg);
      const report = await executePartitioning(ctx(), planA);
      expect(report.steps.map((s) => s.name)).toEqual(['recheck', 'clean', 'partition', 'reread', 'wipe-new', 'md', 'pv', 'vg', 'lv', 'mkfs']);
      await expectVerified(planA);
      // Sector arithmetic really is in the device's logical sectors.
      const table = await readPartitionTable(ctx(), disk.device);
      expect(table?.sectorsize).toBe(sectorSize);
      expect(table?.partitions[3]?.start).toBe((1 + 1 + 64 + 128) * (1048576 / sectorSize));

      // A plan the disk does not match is reported field by field.
      const wrong = structuredClone(planA);
      wrong.fss[2]!.label = 'other';
      wrong.parteds[0]!.partitions[4]!.end += 1;
      wrong.parteds[0]!.partitions[4]!.size += 1;
      const bad = await verifyPlan(ctx(), wrong);
      expect(bad.ok).toBe(false);
      expect(bad.items.filter((i) => !i.ok).map((i) => `${i.kind}:${i.mismatches.join(',')}`).sort()).toEqual(['fs:label', 'partition:size']);

      // Second layout over the first: stale VG, signatures and table all go.
      const planB = testPlan([{ device: disk.device, sizeMiB: 1024, sectorSize, parts: layoutB() }]);
      await executePartitioning(ctx(), planB);
      await expectVerified(planB);
      expect((await listVgs(ctx())).map((v) => v.vg_name)).not.toContain(vg);
    });
  }

  it('keeps a keep_data filesystem byte for byte while the rest is re-laid out', async () => {
    await using disk = await createLoopDisk({ sizeMiB: 512, tag: 'keep' });
    const dev = disk.device;
    const first = testPlan([
      {
        device: dev,
        sizeMiB: 512,
        sectorSize: 512,
        parts: [
          { size: 1, flags: ['bios_grub'] },
          { size: 64, fs: { type: 'ext4', label: 'boot' } },
          { size: 128, name: 'data', fs: { type: 'ext4', label: 'data', mount: '/srv' } },
          { size: 200, fs: { type: 'ext4', label: 'root', mount: '/' } },
        ],
      },
    ]);
    await executePartitioning(ctx(), first);
    const files: Record<string, string> = {};
    {
      await using mounts = new MountStack(ctx());
      const mnt = await mounts.tempDir();
      await mounts.mount(partDevice(dev, 3), mnt);
      for (const name of ['a.bin', 'b.bin', 'c.txt']) {
        const body = randomBytes(200_000 + name.length * 7777);
        await writeFile(join(mnt, name), body);
        files[name] = createHash('sha256').update(body).digest('hex');
      }
    }
    const before = (await readPartitionTable(ctx(), dev))!.partitions[2]!;

    const second = testPlan([
      {
        device: dev,
        sizeMiB: 512,
        sectorSize: 512,
        parts: [
          { size: 1, flags: ['bios_grub'] },
          { size: 40, fs: { type: 'ext2', label: 'boot2' } },
          { size: 128, name: 'data', keep: true, gapBefore: 24, fs: { type: 'ext4', label: 'data', mount: '/srv' } },
          { size: 150, fs: { type: 'xfs', label: 'r2', mount: '/' }, gapBefore: 0 },
          { size: 40, fs: { type: 'swap', label: 'sw' } },
        ],
      },
    ]);
    // The 150 MiB xfs is below mkfs.xfs's 300 MiB minimum: use ext4 there instead.
    second.fss[2]!.type = 'ext4';
    await executePartitioning(ctx(), second);
    await expectVerified(second);
    const after = (await readPartitionTable(ctx(), dev))!.partitions[2]!;
    expect({ start: after.start, size: after.size, uuid: after.uuid }).toEqual({ start: before.start, size: before.size, uuid: before.uuid });
    await using mounts = new MountStack(ctx());
    const mnt = await mounts.tempDir();
    await mounts.mount(partDevice(dev, 3), mnt);
    for (const [name, sum] of Object.entries(files)) {
      expect(createHash('sha256').update(await readFile(join(mnt, name))).digest('hex')).toBe(sum);
    }
  });

  it('refuses a disk smaller than planned before writing anything', async () => {
    await using disk = await createLoopDisk({ sizeMiB: 128, tag: 'small' });
    const r = new ExecaRunner();
    await r.run(['sgdisk', '-n', '1:2048:+16M', disk.device]);
    const sum = await sha256File(disk.file);
    const plan = testPlan([{ device: disk.device, sizeMiB: 256, sectorSize: 512, parts: [{ size: 200, fs: { type: 'ext4' } }] }]);
    const runner = new ExecaRunner();
    const err = await executePartitioning(createCtx({ runner, log: silentLogger }), plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect((err as ForgeError).code).toBe('DISK_CHANGED');
    expect((err as ForgeError).message).toMatch(/smaller than planned|size changed/);
    expect(runner.history.map((h) => h.argv[0])).toEqual(['blockdev']);
    expect(await sha256File(disk.file)).toBe(sum);
  });

  it('refuses a detached disk before writing anything', async () => {
    const r = new ExecaRunner();
    const dir = await mkdtemp(join(tmpdir(), `${LOOP_FILE_PREFIX}gone-`));
    const file = join(dir, 'disk.img');
    await writeFile(file, randomBytes(1024 * 1024));
    await r.run(['truncate', '-s', '64M', file]);
    const dev = (await r.run(['losetup', '--find', '--show', '--partscan', file])).stdout.trim();
    try {
      const plan = testPlan([{ device: dev, sizeMiB: 64, sectorSize: 512, parts: [{ size: 32, fs: { type: 'ext4' } }] }]);
      const sum = await sha256File(file);
      await r.run(['losetup', '--detach', dev]);
      const runner = new ExecaRunner();
      const err = (await executePartitioning(createCtx({ runner, log: silentLogger }), plan).catch((e: unknown) => e)) as ForgeError;
      expect(err.code).toBe('DISK_CHANGED');
      expect(err.message).toContain('no longer present');
      expect(runner.history.every((h) => h.argv[0] === 'blockdev')).toBe(true);
      expect(await sha256File(file)).toBe(sum);
    } finally {
      // Only ever detach the device we attached, and only if it still holds our file.
      const list = await r.run(['losetup', '--list', '--noheadings', '-O', 'NAME,BACK-FILE']);
      if (list.stdout.split('\n').some((l) => l.includes(file) && l.trim().startsWith(dev))) await r.run(['losetup', '--detach', dev]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the failing command and its stderr, and a re-run from scratch succeeds', async () => {
    await using disks = await createLoopDisks([{ sizeMiB: 600, tag: 'fail' }]);
    const dev = disks[0]!.device;
    const plan = testPlan([
      {
        device: dev,
        sizeMiB: 600,
        sectorSize: 512,
        parts: [
          { size: 1, flags: ['bios_grub'] },
          { size: 64, fs: { type: 'ext4', label: 'boot' } },
          { size: 320, fs: { type: 'xfs', label: 'root', mount: '/' } },
          { size: 64, fs: { type: 'vfat', label: 'LATE' } },
        ],
      },
    ]);
    const real = new ExecaRunner();
    // Fault injection at the runner boundary: mkfs.xfs "fails" like a dying disk would.
    const faulty: Runner = {
      get history() {
        return real.history;
      },
      run(argv: readonly string[], opts?: RunOptions): Promise<RunResult> {
        if (argv[0] === 'mkfs.xfs') {
          return Promise.reject(
            new ToolError({ argv, exitCode: 1, stdout: '', stderr: `mkfs.xfs: pwrite failed: Input/output error`, durationMs: 1, timedOut: false, skipped: false }),
          );
        }
        return real.run(argv, opts);
      },
      spawn(argv: readonly string[], opts?: Omit<RunOptions, 'input'>): StreamingProcess {
        return real.spawn(argv, opts);
      },
      start: (argv, opts) => real.start(argv, opts),
    };
    const err = (await executePartitioning(createCtx({ runner: faulty, log: silentLogger }), plan).catch((e: unknown) => e)) as ToolError;
    expect(err).toBeInstanceOf(ToolError);
    expect(err.code).toBe('TOOL_FAILED');
    expect(err.command?.[0]).toBe('mkfs.xfs');
    expect(err.command?.at(-1)).toBe(partDevice(dev, 3));
    expect(err.message).toContain('Input/output error');
    expect((await verifyPlan(ctx(), plan)).ok).toBe(false);

    await executePartitioning(ctx(), plan);
    await expectVerified(plan);
  });
});
