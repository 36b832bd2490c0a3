// LVM and MD on real (virtio) disks: only possible inside a VM, since the host
// kernel has neither device-mapper nor md. Boots the bootstrap ramdisk (built on
// first use, carrying this agent), uploads two plans, and runs
// `provision partition` + `provision verify` in the guest: RAID1 /boot (metadata
// 1.0) + one VG across both disks, then a different layout over the stale one.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../host/artifacts.js';
import type { Plan } from '../plan/types.js';
import { runInVm } from '../../lab/vm/run-in-vm.js';
import { testPlan } from './test-layouts.js';

const fs = (device: string, mount: string, type: Plan['fss'][number]['type'], label: string): Plan['fss'][number] => ({
  device, mount, type, label, mkfsOptions: [], mountOptions: 'defaults', fromImage: false, keepData: false,
});

function raidLvm(): Plan {
  const disk = (device: string) => ({
    device, sizeMiB: 1024, sectorSize: 512,
    parts: [{ size: 1, flags: ['bios_grub' as const] }, { size: 128, flags: ['raid' as const] }, { size: 600, flags: ['lvm' as const] }],
  });
  const base = testPlan([disk('/dev/vda'), disk('/dev/vdb')]);
  return {
    ...base,
    mds: [{ name: 'Boot', device: '/dev/md/Boot', level: 'raid1', members: ['/dev/vda2', '/dev/vdb2'], metadata: '1.0', keepData: false }],
    pvs: ['/dev/vda3', '/dev/vdb3'].map((device) => ({ device, vg: 'os', metadataSize: 16, keepData: false })),
    vgs: [{ name: 'os', pvs: ['/dev/vda3', '/dev/vdb3'], keepData: false }],
    lvs: [
      { vg: 'os', name: 'root', size: 900, device: '/dev/mapper/os-root', keepData: false },
      { vg: 'os', name: 'swap', size: 64, device: '/dev/mapper/os-swap', keepData: false },
    ],
    fss: [fs('/dev/md/Boot', '/boot', 'ext4', 'boot'), fs('/dev/mapper/os-root', '/', 'ext4', 'root'), fs('/dev/mapper/os-swap', 'swap', 'swap', 'swap')],
  };
}

/** Different layout over the same disks: one PV per disk in another VG, RAID0 data array. */
function second(): Plan {
  const disk = (device: string) => ({
    device, sizeMiB: 1024, sectorSize: 512,
    parts: [{ size: 300, flags: ['lvm' as const] }, { size: 200, flags: ['raid' as const] }],
  });
  const base = testPlan([disk('/dev/vda'), disk('/dev/vdb')]);
  return {
    ...base,
    mds: [{ name: 'data', device: '/dev/md/data', level: 'raid0', members: ['/dev/vda2', '/dev/vdb2'], metadata: '1.2', keepData: false }],
    pvs: ['/dev/vda1', '/dev/vdb1'].map((device) => ({ device, vg: 'vg-two', metadataSize: 8, keepData: false })),
    vgs: [{ name: 'vg-two', pvs: ['/dev/vda1', '/dev/vdb1'], keepData: false }],
    lvs: [{ vg: 'vg-two', name: 'var', size: 500, device: '/dev/mapper/vg--two-var', keepData: false }],
    fss: [fs('/dev/md/data', '/srv', 'xfs', 'data'), fs('/dev/mapper/vg--two-var', '/var', 'ext4', 'var')],
  };
}

describe('partition + verify with LVM and MD in a VM', () => {
  // The ramdisk carries this checkout's agent (rebuilt when the agent changed).
  beforeAll(() => ensureBootstrap(), 30 * 60_000);

  it('RAID1 /boot + LVM across two disks, then a different stacked layout over it', async () => {
    {
      const r = await runInVm({
        disks: [{ sizeMiB: 1024 }, { sizeMiB: 1024 }],
        uploads: {
          '/tmp/plan1.json': JSON.stringify(raidLvm()),
          '/tmp/plan2.json': JSON.stringify(second()),
        },
        tasks: [
          ['provision', 'partition', '--plan', '/tmp/plan1.json'],
          ['provision', 'verify', '--plan', '/tmp/plan1.json', '--json'],
          ['mdadm', '--detail', '--export', '/dev/md/Boot'],
          ['provision', 'partition', '--plan', '/tmp/plan2.json'],
          ['provision', 'verify', '--plan', '/tmp/plan2.json', '--json'],
          ['vgs', '--noheadings', '-o', 'vg_name'],
        ],
        stopOnFailure: true,
      });
      const out = r.results.map((x) => x.result);
      for (const [i, o] of out.entries()) expect({ i, exitCode: o.exitCode, err: o.exitCode ? o.stderrTail : '' }).toEqual({ i, exitCode: 0, err: '' });
      expect(out).toHaveLength(6);
      const v1 = JSON.parse(out[1]!.stdout) as { ok: boolean; items: { kind: string }[] };
      expect(v1.ok).toBe(true);
      expect(v1.items.filter((i) => i.kind === 'md' || i.kind === 'lv')).toHaveLength(3);
      expect(out[2]!.stdout).toMatch(/MD_METADATA=1\.0/);
      expect(JSON.parse(out[4]!.stdout)).toMatchObject({ ok: true });
      expect(out[5]!.stdout.split(/\s+/).filter(Boolean)).toEqual(['vg-two']);
    }
  }, 900_000);
});
