// `provision partition` / `provision verify` end to end through the CLI, on a loop device.
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLoopDisk } from '../testing/loop-disks.js';
import { ownLeaks, testPlan } from '../partition/test-layouts.js';
import { runCli as run } from '../testing/cli/run-cli.js';

const sha = async (f: string) => createHash('sha256').update(await readFile(f)).digest('hex');

describe('provision partition / verify', () => {
  afterAll(async () => {
    expect(await ownLeaks(['cli'])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it('--dry-run prints every command in order and writes nothing; a real run then verifies', async () => {
    await using disk = await createLoopDisk({ sizeMiB: 128, tag: 'cli' });
    const dir = await mkdtemp(join(tmpdir(), 'forge-cli-'));
    try {
      const plan = testPlan([
        {
          device: disk.device,
          sizeMiB: 128,
          sectorSize: 512,
          parts: [{ size: 1, flags: ['bios_grub'] }, { size: 32, fs: { type: 'vfat', label: 'EFI' }, flags: ['esp'] }, { size: 64, fs: { type: 'ext4', label: 'root', mount: '/' } }],
        },
      ]);
      const planFile = join(dir, 'plan.json');
      await writeFile(planFile, JSON.stringify(plan));
      const before = await sha(disk.file);

      const dry = await run(['partition', '--plan', planFile, '--dry-run']);
      expect(dry.code).toBe(0);
      const lines = dry.out.split('\n');
      expect(lines.slice(0, 2)).toEqual([`mdadm --zero-superblock --force ${disk.device}`, `wipefs --all --force ${disk.device}`]);
      expect(lines.findIndex((l) => l.startsWith(`sgdisk --zap-all ${disk.device}`))).toBeLessThan(lines.findIndex((l) => l.startsWith('sgdisk --set-alignment=1 --clear')));
      expect(lines.at(-2)).toBe(`mkfs.vfat -n EFI ${disk.device}p2`);
      expect(lines.at(-1)).toBe(`mkfs.ext4 -F -q -L root ${disk.device}p3`);
      expect(await sha(disk.file)).toBe(before);

      // Before partitioning, verify reports the missing table and partitions.
      const missing = await run(['verify', '--plan', planFile]);
      expect(missing.code).toBe(1);
      expect(missing.out).toMatch(/✗ partition .*p3: missing/);

      expect((await run(['partition', '--plan', planFile])).code).toBe(0);
      const ok = await run(['verify', '--plan', planFile, '--json']);
      expect(ok.code).toBe(0);
      const res = JSON.parse(ok.out) as { ok: boolean; items: { kind: string; ok: boolean }[] };
      expect(res.ok).toBe(true);
      expect(res.items.map((i) => i.kind)).toEqual(['disk', 'partition', 'partition', 'partition', 'fs', 'fs']);

      plan.fss[1]!.type = 'xfs';
      await writeFile(planFile, JSON.stringify(plan));
      const diff = await run(['verify', '--plan', planFile]);
      expect(diff.code).toBe(1);
      expect(diff.out).toContain(`✗ fs ${disk.device}p3: type expected "xfs", actual "ext4"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects unknown options with exit 2', async () => {
    const r = await run(['partition', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/usage: provision partition/);
  });
});
