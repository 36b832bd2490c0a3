import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecaRunner } from '../core/runner.js';
import { createLoopDisk, createLoopDisks, findLeaks } from './loop-disks.js';

const runner = new ExecaRunner();

describe('loop disks', () => {
  afterAll(async () => {
    expect(await findLeaks()).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it('attaches a sparse file with the requested sector size and detaches it', async () => {
    const disk = await createLoopDisk({ sizeMiB: 64, sectorSize: 4096, tag: 'selftest' });
    const r = await runner.run(['blockdev', '--getss', '--getsize64', disk.device]);
    expect(r.stdout.trim().split('\n')).toEqual(['4096', String(64 * 1024 * 1024)]);
    expect((await findLeaks()).loops).toContain(disk.device);
    await disk.dispose();
    expect(existsSync(disk.file)).toBe(false);
    expect((await findLeaks()).loops).not.toContain(disk.device);
  });

  it('unmounts and detaches partitioned disks on dispose', async () => {
    const disks = await createLoopDisks([
      { sizeMiB: 64, tag: 'selftest' },
      { sizeMiB: 64, tag: 'selftest' },
    ]);
    const mnt = mkdtempSync(join(tmpdir(), 'forge-mnt-'));
    try {
      const dev = disks[0]!.device;
      await runner.run(['sgdisk', '-n', '1:2048:+16M', dev]);
      await runner.run(['partprobe', dev]);
      await runner.run(['mkfs.ext4', '-q', `${dev}p1`]);
      await runner.run(['mount', `${dev}p1`, mnt]);
      expect((await findLeaks()).loops).toHaveLength(2);
    } finally {
      await disks.dispose();
    }
    expect(await findLeaks()).toEqual({ loops: [], vgs: [], mds: [] });
    const mounts = await runner.run(['findmnt', '--noheadings', mnt], { okExitCodes: [0, 1] });
    expect(mounts.stdout.trim()).toBe('');
    rmSync(mnt, { recursive: true, force: true });
  });
});
