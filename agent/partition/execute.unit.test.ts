// Unit tests with a RecordingRunner and a fake block graph: the exact argv for
// MD, LVM and stale-state clean-up, which this host's kernel cannot run.
import { describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import type { Plan } from '../plan/types.js';
import { pvcreateArgv } from '../tools/lvm.js';
import { executePartitioning } from './execute.js';
import type { BlockGraph } from '../tools/sysfs.js';
import { testPlan } from './test-layouts.js';

const GiB = 1024 ** 3;

/** Two 8 GiB disks: RAID1 /boot across both, one VG "os" across both, root + swap LVs. */
function raidLvmPlan(): Plan {
  const base = testPlan([
    { device: '/dev/vda', sizeMiB: 8192, sectorSize: 512, parts: [{ size: 1, flags: ['bios_grub'] }, { size: 256, flags: ['raid'] }, { size: 4000, flags: ['lvm'] }] },
    { device: '/dev/vdb', sizeMiB: 8192, sectorSize: 512, parts: [{ size: 1, flags: ['bios_grub'] }, { size: 256, flags: ['raid'] }, { size: 4000, flags: ['lvm'] }] },
  ]);
  return {
    ...base,
    mds: [{ name: 'Boot', device: '/dev/md/Boot', level: 'raid1', members: ['/dev/vda2', '/dev/vdb2'], metadata: '1.0', keepData: false }],
    pvs: [
      { device: '/dev/vda3', vg: 'os', metadataSize: 28, keepData: false },
      { device: '/dev/vdb3', vg: 'os', metadataSize: 28, keepData: false },
    ],
    vgs: [{ name: 'os', pvs: ['/dev/vda3', '/dev/vdb3'], keepData: false }],
    lvs: [
      { vg: 'os', name: 'root', size: 6000, device: '/dev/mapper/os-root', keepData: false },
      { vg: 'os', name: 'swap', size: 512, device: '/dev/mapper/os-swap', keepData: false },
    ],
    fss: [
      { device: '/dev/md/Boot', mount: '/boot', type: 'ext4', label: 'boot', mkfsOptions: [], mountOptions: 'defaults', fromImage: false, keepData: false },
      { device: '/dev/mapper/os-root', mount: '/', type: 'ext4', label: 'root', mkfsOptions: [], mountOptions: 'defaults', fromImage: true, keepData: false },
      { device: '/dev/mapper/os-swap', mount: 'swap', type: 'swap', label: 'swap', mkfsOptions: [], mountOptions: 'defaults', fromImage: false, keepData: false },
    ],
  };
}

/** vda/vdb each with two old partitions; an old array md127 on both p1s with a PV of VG "old" on it. */
function staleGraph(): BlockGraph {
  const holders: Record<string, string[]> = { vda1: ['md127'], vdb1: ['md127'], md127: ['dm-0'] };
  return {
    kernelName: async (p) => p.replace('/dev/', '').replace('md/Old', 'md127'),
    partitionsOf: async (d) => [`${d}1`, `${d}2`],
    holdersClosure: async (names) => {
      const out: string[] = [];
      let f = [...names];
      while (f.length) {
        f = [...new Set(f.flatMap((n) => holders[n] ?? []))].filter((h) => !out.includes(h));
        out.push(...f);
      }
      return out;
    },
    dmName: async () => 'old-data',
    devicesInUse: async () => new Map(),
  };
}

function recording(extraRespond: (argv: readonly string[]) => { stdout?: string } | undefined = () => undefined): RecordingRunner {
  return new RecordingRunner({
    respond: (argv) => {
      if (argv[0] === 'blockdev' && argv[1] === '--getsize64') return { stdout: `${8 * GiB}\n512\n512\n0\n` };
      if (argv[0] === 'pvs')
        return { stdout: JSON.stringify({ report: [{ pv: [{ pv_name: '/dev/md127', vg_name: 'old', pv_size: '100', pv_mda_size: '1' }, { pv_name: '/dev/sdz1', vg_name: 'other', pv_size: '1', pv_mda_size: '1' }] }] }) };
      return extraRespond(argv);
    },
  });
}

describe('executePartitioning argv (recorded)', () => {
  it('cleans stale LVM/MD/signatures, then builds RAID1 /boot and LVM across two disks', async () => {
    const runner = recording();
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    await executePartitioning(ctx, raidLvmPlan(), undefined, { graph: staleGraph() });
    const cmds = runner.planned.map((a) => a.join(' '));
    expect(cmds).toEqual([
      // clean: VG on the old array first, then the array, then every signature and both GPT headers
      'vgchange -an old',
      'vgremove -ff -y old',
      'pvremove -ff -y /dev/md127',
      'mdadm --stop /dev/md127',
      'mdadm --zero-superblock --force /dev/vda1',
      'wipefs --all --force /dev/vda1',
      'mdadm --zero-superblock --force /dev/vda2',
      'wipefs --all --force /dev/vda2',
      'mdadm --zero-superblock --force /dev/vdb1',
      'wipefs --all --force /dev/vdb1',
      'mdadm --zero-superblock --force /dev/vdb2',
      'wipefs --all --force /dev/vdb2',
      'mdadm --zero-superblock --force /dev/vda',
      'wipefs --all --force /dev/vda',
      'sgdisk --zap-all /dev/vda',
      'mdadm --zero-superblock --force /dev/vdb',
      'wipefs --all --force /dev/vdb',
      'sgdisk --zap-all /dev/vdb',
      // partition
      'sgdisk --set-alignment=1 --clear --new=1:2048:4095 --typecode=1:21686148-6449-6E6F-744E-656564454649 --change-name=1:part1 ' +
        '--new=2:4096:528383 --typecode=2:A19D880F-05FC-4D3B-A006-743F0F84911E --change-name=2:part2 ' +
        '--new=3:528384:8720383 --typecode=3:E6D6D379-F507-44C2-A23C-238F2A3DF928 --change-name=3:part3 /dev/vda',
      'sgdisk --set-alignment=1 --clear --new=1:2048:4095 --typecode=1:21686148-6449-6E6F-744E-656564454649 --change-name=1:part1 ' +
        '--new=2:4096:528383 --typecode=2:A19D880F-05FC-4D3B-A006-743F0F84911E --change-name=2:part2 ' +
        '--new=3:528384:8720383 --typecode=3:E6D6D379-F507-44C2-A23C-238F2A3DF928 --change-name=3:part3 /dev/vdb',
      'partprobe /dev/vda',
      'partprobe /dev/vdb',
      // first and last MiB of each new partition
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vda1',
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vda2',
      `blkdiscard --force --zeroout --offset ${255 * 1048576} --length 1048576 /dev/vda2`,
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vda3',
      `blkdiscard --force --zeroout --offset ${3999 * 1048576} --length 1048576 /dev/vda3`,
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vdb1',
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vdb2',
      `blkdiscard --force --zeroout --offset ${255 * 1048576} --length 1048576 /dev/vdb2`,
      'blkdiscard --force --zeroout --offset 0 --length 1048576 /dev/vdb3',
      `blkdiscard --force --zeroout --offset ${3999 * 1048576} --length 1048576 /dev/vdb3`,
      // MD with metadata 1.0 for /boot
      'mdadm --zero-superblock --force /dev/vda2',
      'mdadm --zero-superblock --force /dev/vdb2',
      'mdadm --create /dev/md/Boot --run --level=raid1 --raid-devices=2 --metadata=1.0 --name=Boot /dev/vda2 /dev/vdb2',
      // LVM
      'pvcreate -ff -y --metadatasize 28m /dev/vda3',
      'pvcreate -ff -y --metadatasize 28m /dev/vdb3',
      'vgcreate -y os /dev/vda3 /dev/vdb3',
      'lvcreate -y -Wy -Zy -L 6000m -n root os',
      'lvcreate -y -Wy -Zy -L 512m -n swap os',
      // filesystems (root comes from the image)
      'mkfs.ext4 -F -q -L boot /dev/md/Boot',
      'mkswap -f -L swap /dev/mapper/os-swap',
    ]);
  });

  it('on a keep_data disk deletes only the other partitions and never zaps or wipes the kept one', async () => {
    const plan = testPlan([
      {
        device: '/dev/vda',
        sizeMiB: 8192,
        sectorSize: 512,
        parts: [{ size: 1, flags: ['bios_grub'] }, { size: 100, fs: { type: 'ext4', label: 'r' } }, { size: 200, keep: true, fs: { type: 'xfs', label: 'data' } }],
      },
    ]);
    const table = {
      partitiontable: {
        label: 'gpt', device: '/dev/vda', unit: 'sectors', sectorsize: 512,
        partitions: [
          { node: '/dev/vda1', start: 2048, size: 10240, type: 'x' },
          { node: '/dev/vda3', start: 208896, size: 409600, type: 'x' },
          { node: '/dev/vda4', start: 618496, size: 2048, type: 'x' },
        ],
      },
    };
    const runner = recording((argv) => (argv[0] === 'sfdisk' ? { stdout: JSON.stringify(table) } : undefined));
    const graph: BlockGraph = { ...staleGraph(), partitionsOf: async () => ['vda1', 'vda3', 'vda4'], holdersClosure: async () => [] };
    await executePartitioning(createCtx({ runner, log: silentLogger, dryRun: true }), plan, undefined, { graph });
    const cmds = runner.planned.map((a) => a.join(' '));
    expect(cmds.filter((c) => c.includes('/dev/vda3'))).toEqual([]);
    expect(cmds.some((c) => c.startsWith('sgdisk --zap-all'))).toBe(false);
    expect(cmds.some((c) => c === 'wipefs --all --force /dev/vda')).toBe(false);
    expect(cmds).toContain('wipefs --all --force /dev/vda4');
    expect(cmds).toContain(
      'sgdisk --set-alignment=1 --move-second-header --delete=1 --delete=4 ' +
        '--new=1:2048:4095 --typecode=1:21686148-6449-6E6F-744E-656564454649 --change-name=1:part1 ' +
        '--new=2:4096:208895 --typecode=2:0FC63DAF-8483-4772-8E79-3D69D8477DE4 --change-name=2:part2 /dev/vda',
    );
    expect(cmds.some((c) => c.startsWith('mkfs.xfs'))).toBe(false);
  });

  it('rejects a keep_data partition that is not where the plan keeps it, before any write', async () => {
    const plan = testPlan([{ device: '/dev/vda', sizeMiB: 8192, sectorSize: 512, parts: [{ size: 100, keep: true, fs: { type: 'ext4' } }] }]);
    const runner = recording((argv) =>
      argv[0] === 'sfdisk'
        ? { stdout: JSON.stringify({ partitiontable: { label: 'gpt', device: '/dev/vda', unit: 'sectors', partitions: [{ node: '/dev/vda1', start: 4096, size: 204800, type: 'x' }] } }) }
        : undefined,
    );
    const err = await executePartitioning(createCtx({ runner, log: silentLogger, dryRun: true }), plan, undefined, { graph: staleGraph() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DISK_CHANGED' });
    expect(runner.planned).toEqual([]);
  });
});

describe('pvcreate', () => {
  it("passes the plan's metadata copies (Fuel's 2) when it gives them", () => {
    expect(pvcreateArgv('/dev/sda5', 28, 2)).toEqual(['pvcreate', '-ff', '-y', '--metadatasize', '28m', '--metadatacopies', '2', '/dev/sda5']);
    expect(pvcreateArgv('/dev/sda5', 28)).toEqual(['pvcreate', '-ff', '-y', '--metadatasize', '28m', '/dev/sda5']);
  });
});
