import { describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import type { Plan, PlannedFs } from '../plan/types.js';
import { fstabEntries, renderFstab } from './fstab.js';
import { grubPcSelections } from './grub-pc-devices.js';
import { efiLoadersSigned, expectedRootArg, installBootloader, missingKernelParams } from './install.js';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIGNED_EFI_LOADERS } from '../tools/grub.js';
import { cloudDatasourceCfg, GRUB_DROPIN_FILE, grubDefaults, grubDropIn, LVM_ACTIVATE_WANTS, lvmActivateUnit } from './target-files.js';

const fs = (device: string, mount: string, type: PlannedFs['type']): PlannedFs => ({
  device, mount, type, mkfsOptions: [], mountOptions: type === 'swap' ? 'sw' : 'defaults', fromImage: mount === '/', keepData: false,
});

function plan(esp = false): Plan {
  return {
    version: 1, parteds: [], mds: [], pvs: [], vgs: [], lvs: [], images: [],
    fss: [
      fs('/dev/sda5', '/var/lib/glance', 'xfs'),
      fs('/dev/sda4', 'swap', 'swap'),
      fs('/dev/sda3', '/', 'ext4'),
      fs('/dev/sda2', '/boot', 'ext2'),
      ...(esp ? [fs('/dev/sda6', '/boot/efi', 'vfat')] : []),
    ],
    bootloader: {
      disks: ['/dev/sda', '/dev/sdb'], bootDevice: '/dev/sda2', rootDevice: '/dev/sda3',
      kernelParams: 'console=ttyS0,9600 console=tty0 rootdelay=90',
      ...(esp ? { espDevice: '/dev/sda6' } : {}),
    },
  };
}

describe('installBootloader (recorded)', () => {
  it('mounts by depth, binds, installs GRUB on every boot disk, then unmounts in reverse', async () => {
    const inputs = new Map<string, unknown>();
    const runner = new RecordingRunner({ respond: (argv, o) => void inputs.set(argv.join(' '), o.input) });
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    const report = await installBootloader(ctx, plan(true));
    const cmds = runner.planned.map((a) => a.join(' ').replace(/\/tmp\/forge-target-\w+/g, 'T').replace(/\/tmp\/forge-grub-\w+/g, 'G').replace(/\/run\/forge-grub-probe-\w+/g, '/run/M'));
    // After the first disk's install, the other installs (in order) run beside grub-mkconfig:
    // the two interleave however they will, so compare that stretch as a set, and the order inside the installs.
    const GRUB_BESIDE_MKCONFIG = [
      'chroot T grub-install --target=i386-pc --no-floppy /dev/sdb',
      'chroot T grub-install --target=x86_64-efi --efi-directory=/boot/efi --removable --no-nvram --bootloader-id=debian --no-uefi-secure-boot',
      'chroot T grub-mkconfig -o /boot/grub/grub.cfg',
    ];
    const stretch = cmds.slice(11, 14);
    expect([...stretch].sort()).toEqual([...GRUB_BESIDE_MKCONFIG].sort());
    expect(stretch.filter((c) => c.includes('grub-install'))).toEqual(GRUB_BESIDE_MKCONFIG.slice(0, 2));
    cmds.splice(11, 3, ...GRUB_BESIDE_MKCONFIG);
    expect(cmds).toEqual([
      'mount -t ext4 /dev/sda3 T',
      'mount -t ext2 /dev/sda2 T/boot',
      'mount -t vfat /dev/sda6 T/boot/efi',
      'mount -t xfs /dev/sda5 T/var/lib/glance',
      'mount --bind /dev T/dev',
      'mount --bind /proc T/proc',
      'mount --bind /sys T/sys',
      'mount --bind /run T/run',
      // GRUB's partition lookups go to the kernel, not to a udevadm fork each (udevadm-mask.ts).
      'mount --bind G/no-udevadm T/usr/bin/udevadm',
      // grub-mkconfig's repeated grub-probe questions answered once (grub-probe-memo.ts).
      'mount --bind /run/M/memo T/usr/sbin/grub-probe',
      'chroot T grub-install --target=i386-pc --no-floppy /dev/sda',
      ...GRUB_BESIDE_MKCONFIG,
      // grub-pc's install_devices: every disk GRUB went on (grub-pc-devices.ts).
      'chroot T debconf-set-selections',
      'umount T/usr/sbin/grub-probe',
      'umount T/usr/bin/udevadm',
      'umount T/run',
      'umount T/sys',
      'umount T/proc',
      'umount T/dev',
      'umount T/var/lib/glance',
      'umount T/boot/efi',
      'umount T/boot',
      'umount T',
    ]);
    expect(report.efi).toBe(true);
    expect(report.fstab.map((e) => e.mount)).toEqual(['/', '/boot', '/boot/efi', '/var/lib/glance', 'none']);
    expect(report.grubPcDevices).toEqual(['/dev/sda', '/dev/sdb']);
    const selections = [...inputs].find(([argv]) => argv.endsWith(' debconf-set-selections'));
    expect(selections?.[1]).toBe(grubPcSelections(['/dev/sda', '/dev/sdb']));
  });

  it('a later disk\'s GRUB failing beside grub-mkconfig: that install is the error, grub-mkconfig still settles, everything unmounted', async () => {
    const failing = (argv: readonly string[]) =>
      argv.includes('/dev/sdb') || argv.includes('grub-mkconfig') ? { exitCode: 1, stderr: `${argv.at(1)} broke` } : undefined;
    const runner = new RecordingRunner({ respond: failing });
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    const err = await installBootloader(ctx, plan(true)).then(() => undefined, (e: unknown) => e);
    expect(String((err as Error | undefined)?.message)).toContain('grub-install');
    const cmds = runner.history.map((r) => r.argv.join(' ').replace(/\/tmp\/forge-target-\w+/g, 'T'));
    // grub-mkconfig ran (beside the failing install), the ESP's install did not (it follows /dev/sdb's), and every mount was undone after both.
    const mkconfig = cmds.indexOf('chroot T grub-mkconfig -o /boot/grub/grub.cfg');
    expect(mkconfig).toBeGreaterThan(0);
    expect(cmds.some((c) => c.includes('--target=x86_64-efi'))).toBe(false);
    const firstUmount = cmds.findIndex((c) => c.startsWith('umount'));
    expect(firstUmount).toBeGreaterThan(mkconfig);
    expect(cmds.filter((c) => c.startsWith('umount'))).toHaveLength(10);
  });

  it('mounts each mirror ESP after GRUB is installed, and unmounts it with the rest', async () => {
    const runner = new RecordingRunner();
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    const withMirror: Plan = { ...plan(true), bootloader: { ...plan(true).bootloader, espMirrors: ['/dev/sdb6'] } };
    const report = await installBootloader(ctx, withMirror);
    const cmds = runner.planned.map((a) => a.join(' ').replace(/\/tmp\/forge-(target|esp)-\w+/g, '$1'));
    const efi = cmds.findIndex((c) => c.includes('--target=x86_64-efi'));
    const mirror = cmds.indexOf('mount -t vfat /dev/sdb6 esp');
    expect(efi).toBeGreaterThan(0);
    expect(mirror).toBeGreaterThan(efi);
    expect(cmds.indexOf('umount esp')).toBeGreaterThan(mirror);
    expect(report.espMirrors).toEqual(['/dev/sdb6']);
  });

  it('enables a unit activating the plan\'s VGs only when the plan has VGs', async () => {
    const ctx = () => createCtx({ runner: new RecordingRunner(), log: silentLogger, dryRun: true });
    expect((await installBootloader(ctx(), plan())).lvmActivateUnit).toBeUndefined();
    const withVgs: Plan = { ...plan(), vgs: [{ name: 'os', pvs: ['/dev/sda4'], keepData: false }, { name: 'data-vg', pvs: ['/dev/sdb1'], keepData: true }] };
    expect((await installBootloader(ctx(), withVgs)).lvmActivateUnit).toBe('/etc/systemd/system/fuel-forge-lvm-activate.service');
  });

  it('still unmounts everything when grub-install fails, and names the command', async () => {
    const runner = new RecordingRunner({
      respond: (argv) => (argv.includes('grub-install') ? { exitCode: 1, stderr: 'grub-install: error: no such disk' } : undefined),
    });
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    const err = await installBootloader(ctx, plan()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TOOL_FAILED' });
    expect((err as { command: string[] }).command).toContain('grub-install');
    const mounts = runner.calls.filter((a) => a[0] === 'mount').length;
    const umounts = runner.calls.filter((a) => a[0] === 'umount').length;
    expect(mounts).toBe(9);
    expect(umounts).toBe(mounts);
  });
});

describe('expectedRootArg', () => {
  it('expects root=UUID for a partition or MD root and the /dev/mapper path for an LVM root, as grub-mkconfig writes them', () => {
    const p = plan();
    expect(expectedRootArg(p, 'abcd')).toBe('root=UUID=abcd');
    const lvm: Plan = {
      ...p,
      lvs: [{ vg: 'os', name: 'root', size: 2048, device: '/dev/mapper/os-root', keepData: false }],
      bootloader: { ...p.bootloader, rootDevice: '/dev/mapper/os-root' },
    };
    expect(expectedRootArg(lvm, 'abcd')).toBe('root=/dev/mapper/os-root');
  });
});

describe('target files', () => {
  it('writes fstab by UUID with swap and fsck passes', () => {
    const uuids = new Map([['/dev/sda3', 'r-1'], ['/dev/sda2', 'b-2'], ['/dev/sda4', 's-3'], ['/dev/sda5', 'x-4']]);
    const text = renderFstab(fstabEntries(plan().fss, uuids));
    const rows = text.split('\n').filter((l) => l.startsWith('UUID=')).map((l) => l.split('\t').slice(0, 6).join(' '));
    expect(rows).toEqual([
      'UUID=r-1 / ext4 defaults 0 1',
      'UUID=b-2 /boot ext2 defaults 0 2',
      'UUID=x-4 /var/lib/glance xfs defaults 0 0',
      'UUID=s-3 none swap sw 0 0',
    ]);
  });

  it('sets the kernel parameters, root by UUID and a serial terminal in GRUB defaults', () => {
    const out = grubDefaults('GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\nGRUB_TIMEOUT=5\n', 'console=ttyS0,9600 a="b c"');
    expect(out).toContain('GRUB_DEFAULT=0\n');
    expect(out).not.toContain('"quiet"');
    expect(out).toContain('GRUB_CMDLINE_LINUX="console=ttyS0,9600 a=\\"b c\\""\n');
    expect(out).toContain('GRUB_DISABLE_LINUX_UUID=false\n');
    expect(out).toContain('GRUB_SERIAL_COMMAND="serial --unit=0 --speed=9600"\n');
  });

  it('puts the same settings in a drop-in that sorts after the image\'s own drop-ins', () => {
    const dropIn = grubDropIn('console=ttyS1,57600 net.ifnames=0');
    expect(dropIn).toContain('GRUB_CMDLINE_LINUX="console=ttyS1,57600 net.ifnames=0"\n');
    expect(dropIn).toContain('GRUB_SERIAL_COMMAND="serial --unit=1 --speed=57600"\n');
    // grub-mkconfig sources grub.d/*.cfg in glob (C collation) order: ours must come last.
    const others = ['50-cloudimg-settings.cfg', '50-fuel-forge.cfg', 'init-select.cfg', 'Z-vendor.cfg'];
    const name = GRUB_DROPIN_FILE.split('/').pop()!;
    expect([...others, name].sort().pop()).toBe(name);
  });

  it('names the kernel parameters a generated grub.cfg lost', () => {
    const cfg = [
      "menuentry 'Debian' {",
      '\tlinux\t/vmlinuz-6.1 root=UUID=x ro console=tty0 console=ttyS0,115200n8',
      '}',
      "menuentry 'Debian (recovery)' {",
      '\tlinux\t/vmlinuz-6.1 root=UUID=x ro single console=ttyS0,115200 net.ifnames=0',
      '}',
    ].join('\n');
    expect(missingKernelParams(cfg, 'console=ttyS0,115200 net.ifnames=0')).toEqual(['console=ttyS0,115200', 'net.ifnames=0']);
    expect(missingKernelParams(cfg.replace('console=ttyS0,115200n8', 'console=ttyS0,115200 net.ifnames=0'), 'console=ttyS0,115200 net.ifnames=0')).toEqual([]);
    expect(missingKernelParams('no entries', 'quiet')).toEqual(['quiet']);
  });

  it('activates exactly the named VGs before local filesystems, without blocking the boot on udev', () => {
    const unit = lvmActivateUnit(['os', 'data-vg']);
    expect(unit).toContain('ExecStart=/sbin/lvm vgchange --activate ay --sysinit os data-vg\n');
    expect(unit).toContain('Before=local-fs-pre.target');
    expect(unit).toContain('DefaultDependencies=no');
    expect(unit).toMatch(/ExecStartPre=-\/bin\/udevadm settle/);
    expect(LVM_ACTIVATE_WANTS).toBe('etc/systemd/system/local-fs-pre.target.wants/fuel-forge-lvm-activate.service');
  });

  it('limits cloud-init to the configdrive datasources', () => {
    expect(cloudDatasourceCfg()).toContain('datasource_list: [ ConfigDrive, NoCloud ]');
  });

  it('installs the signed EFI loaders only when the image carries both (shim-signed, grub-efi-amd64-signed)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'forge-efisigned-'));
    try {
      expect(await efiLoadersSigned(root)).toBe(false);
      const [shim, grub] = SIGNED_EFI_LOADERS.map((r) => join(root, r));
      mkdirSync(join(shim as string, '..'), { recursive: true });
      writeFileSync(shim as string, 'shim');
      expect(await efiLoadersSigned(root)).toBe(false);
      mkdirSync(join(grub as string, '..'), { recursive: true });
      // A link out of the image does not count: the chroot's grub-install would not find it.
      symlinkSync('/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed', grub as string);
      expect(await efiLoadersSigned(root)).toBe(false);
      rmSync(grub as string);
      writeFileSync(grub as string, 'grub');
      expect(await efiLoadersSigned(root)).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
