// Turns a freshly debootstrapped tree into a generic image: nothing that must
// be unique per node survives (machine-id, SSH host keys, apt lists, logs), and
// cloud-init looks only at the configdrive (ConfigDrive) or NoCloud seed.
import { chmod, mkdir, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../core/context.js';
import { chrootRun } from '../../tools/chroot.js';

export const DATASOURCE_CFG_PATH = 'etc/cloud/cloud.cfg.d/90_fuel_forge_datasource.cfg';
export const DATASOURCE_CFG = 'datasource_list: [ ConfigDrive, NoCloud ]\n';

async function rmChildren(dir: string, keep: (name: string) => boolean = () => false): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const n of names) if (!keep(n)) await rm(join(dir, n), { recursive: true, force: true });
}

export async function writeCloudInitConfig(root: string): Promise<void> {
  await mkdir(join(root, 'etc/cloud/cloud.cfg.d'), { recursive: true });
  await writeFile(join(root, DATASOURCE_CFG_PATH), DATASOURCE_CFG);
}

/** ifupdown reads what cloud-init renders into interfaces.d (netplan-free). */
export async function writeNetworkConfig(root: string): Promise<void> {
  await mkdir(join(root, 'etc/network/interfaces.d'), { recursive: true });
  await writeFile(
    join(root, 'etc/network/interfaces'),
    'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n',
  );
}

/** The image's locale: what cloud-init sets by default, compiled at build time. */
export const IMAGE_LOCALE = 'en_US.UTF-8';

/**
 * Compiles IMAGE_LOCALE into the image and makes it the default. cloud-init's
 * locale module would otherwise call Debian's locale-gen, which ignores the locale
 * it is given, and fail on first boot ("invalid locale settings").
 */
export async function configureLocale(ctx: Ctx, root: string): Promise<void> {
  const charset = IMAGE_LOCALE.split('.')[1] ?? 'UTF-8';
  await writeFile(join(root, 'etc/locale.gen'), `${IMAGE_LOCALE} ${charset}\n`);
  await chrootRun(ctx, root, ['locale-gen']);
  await mkdir(join(root, 'etc/default'), { recursive: true });
  await writeFile(join(root, 'etc/default/locale'), `LANG=${IMAGE_LOCALE}\n`);
}

/** Serial console on, short menu: nodes are managed through ttyS0 and IPMI SOL. */
export async function writeGrubDefaults(root: string): Promise<void> {
  await mkdir(join(root, 'etc/default/grub.d'), { recursive: true });
  await writeFile(
    join(root, 'etc/default/grub.d/50-fuel-forge.cfg'),
    [
      'GRUB_TIMEOUT=2',
      'GRUB_CMDLINE_LINUX="console=tty0 console=ttyS0,115200n8"',
      'GRUB_TERMINAL="console serial"',
      'GRUB_SERIAL_COMMAND="serial --speed=115200"',
      'GRUB_DISABLE_OS_PROBER=true',
      '',
    ].join('\n'),
  );
}

export const INITRAMFS_LVM_SCRIPT_PATH = 'etc/initramfs-tools/scripts/local-block/fuel-forge-lvm';

/**
 * Debian 12's initramfs activates LVM only from udev events (69-lvm.rules): when
 * the PVs of the root VG (Fuel's `os`, often spread over two disks) appear at
 * once, each scan can find the VG incomplete and none activates it — the node
 * then drops to "(initramfs)" with `/dev/mapper/os-root does not exist` (seen in
 * the lab; Debian #1082403 has the same workaround). initramfs-tools runs the
 * local-block scripts on every turn of its wait for the root device, so this one
 * activates whatever VGs are complete by then.
 */
export const INITRAMFS_LVM_SCRIPT = [
  '#!/bin/sh',
  '# fuel-forge: activate complete LVM volume groups while waiting for the root device.',
  'PREREQ=""',
  'prereqs() { echo "$PREREQ"; }',
  'case "$1" in prereqs) prereqs; exit 0 ;; esac',
  'command -v lvm >/dev/null 2>&1 || exit 0',
  'lvm vgchange -aay --sysinit >/dev/null 2>&1',
  'exit 0',
  '',
].join('\n');

/** Adds INITRAMFS_LVM_SCRIPT and rebuilds the image's initramfs with it. */
export async function addInitramfsLvmActivation(ctx: Ctx, root: string): Promise<void> {
  const path = join(root, INITRAMFS_LVM_SCRIPT_PATH);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, INITRAMFS_LVM_SCRIPT);
  await chmod(path, 0o755);
  await chrootRun(ctx, root, ['update-initramfs', '-u', '-k', 'all'], { timeoutMs: 20 * 60_000 });
}

export async function removePerNodeState(root: string): Promise<void> {
  // Empty (not missing) machine-id: systemd generates one on first boot.
  await writeFile(join(root, 'etc/machine-id'), '');
  await truncate(join(root, 'etc/machine-id'), 0);
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  const ssh = join(root, 'etc/ssh');
  for (const n of await readdir(ssh).catch(() => [] as string[])) {
    if (n.startsWith('ssh_host_')) await rm(join(ssh, n), { force: true });
  }
  await rmChildren(join(root, 'var/lib/apt/lists'), (n) => n === 'partial' || n === 'lock');
  await rmChildren(join(root, 'var/cache/apt/archives'), (n) => n === 'partial' || n === 'lock');
  await rm(join(root, 'var/cache/apt/pkgcache.bin'), { force: true });
  await rm(join(root, 'var/cache/apt/srcpkgcache.bin'), { force: true });
  await rmChildren(join(root, 'var/lib/cloud'));
  await rmChildren(join(root, 'var/log'), (n) => n === 'apt' || n === 'journal' || n === 'private');
  await rmChildren(join(root, 'tmp'));
  await rmChildren(join(root, 'var/tmp'));
  await rm(join(root, 'etc/resolv.conf'), { force: true });
  await writeFile(join(root, 'etc/resolv.conf'), '');
  await writeFile(join(root, 'etc/hostname'), 'localhost\n');
  await writeFile(join(root, 'etc/fstab'), '# written by the provisioning agent\n');
  await rm(join(root, 'etc/udev/rules.d/70-persistent-net.rules'), { force: true });
}
