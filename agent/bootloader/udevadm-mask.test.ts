import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { MountStack } from '../tools/mount.js';
import { canMaskUdevadm, maskUdevadm } from './udevadm-mask.js';
import { targetToolFiles } from './target-path.js';

const disk = (device: string): PlannedDisk => ({
  id: device, name: device.slice(5), device, matchedBy: 'name', matchedOn: device.slice(5), size: 4096,
  logicalSectorSize: 512, physicalSectorSize: 512, label: 'gpt', partitions: [],
} as unknown as PlannedDisk);
const planOn = (...devices: string[]): Plan => ({
  version: 1, parteds: devices.map(disk), mds: [], pvs: [], vgs: [], lvs: [], images: [], fss: [],
  bootloader: { disks: devices, bootDevice: `${devices[0]}2`, rootDevice: `${devices[0]}3`, kernelParams: '' },
});

const dirs: string[] = [];
const tree = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'forge-udevadm-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('GRUB without udevadm', () => {
  it('is used for the disks nodes boot from, never for loop devices (no HDIO_GETGEO there)', () => {
    expect(canMaskUdevadm(planOn('/dev/sda', '/dev/nvme0n1', '/dev/vda'))).toBe(true);
    expect(canMaskUdevadm(planOn('/dev/sda', '/dev/loop3'))).toBe(false);
  });

  it('finds the target\'s udevadm once through a merged /usr, and leaves a link out of the target alone', async () => {
    const root = tree();
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'usr/sbin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/udevadm'), 'elf', { mode: 0o755 });
    symlinkSync('usr/bin', join(root, 'bin'));
    // An absolute link resolves on the host when followed from outside the chroot: never mounted over.
    symlinkSync('/usr/bin/env', join(root, 'usr/sbin/udevadm'));
    expect(await targetToolFiles(root, 'udevadm')).toEqual(['usr/bin/udevadm']);
    const empty = tree();
    expect(await targetToolFiles(empty, 'udevadm')).toEqual([]);
  });

  it('binds an empty file over each one through the mount stack, which undoes it', async () => {
    const root = tree();
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/udevadm'), 'elf', { mode: 0o755 });
    mkdirSync(join(root, 'sbin'));
    writeFileSync(join(root, 'sbin/udevadm'), 'elf', { mode: 0o755 });
    const runner = new RecordingRunner();
    const ctx = createCtx({ runner, log: silentLogger });
    const stack = new MountStack(ctx);
    expect(await maskUdevadm(ctx, stack, planOn('/dev/sda'), root)).toEqual(['/sbin/udevadm', '/usr/bin/udevadm']);
    await stack.dispose();
    const cmds = runner.calls.map((a) => a.join(' ').replace(/\/tmp\/forge-grub-\w+/g, 'G').replaceAll(root, 'T'));
    expect(cmds).toEqual([
      'mount --bind G/no-udevadm T/sbin/udevadm',
      'mount --bind G/no-udevadm T/usr/bin/udevadm',
      'umount T/usr/bin/udevadm',
      'umount T/sbin/udevadm',
    ]);
    expect(await maskUdevadm(ctx, new MountStack(ctx), planOn('/dev/loop0'), root)).toEqual([]);
  });
});
