// System test: the tiny OS image (built once per machine, cached) is a valid
// ext4 filesystem whose metadata matches the file, with kernel, GRUB,
// cloud-init (ConfigDrive/NoCloud only), sshd, and no per-node state.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCtx } from '../../core/context.js';
import { silentLogger } from '../../core/log.js';
import { decompressFile } from '../../tools/compress-file.js';
import { SIGNED_EFI_LOADERS } from '../../tools/grub.js';
import { cpioList } from '../../tools/cpio.js';
import { debugfs, e2fsckCheckArgv } from '../../tools/e2fs-image.js';
import { ensureTinyImage } from '../artifacts.js';
import type { BuiltImage } from './build-image.js';
import { digestFile } from './checksums.js';
import { DATASOURCE_CFG, DATASOURCE_CFG_PATH, IMAGE_LOCALE } from './finish-rootfs.js';
import { readImageMeta } from './meta.js';

describe('tiny OS image', () => {
  const ctx = createCtx({ log: silentLogger });
  let built: BuiltImage;
  let work: string;
  let raw: string;
  const ls = async (dir: string): Promise<string> => debugfs(ctx, raw, `ls -l ${dir}`);
  const cat = async (file: string): Promise<string> => debugfs(ctx, raw, `cat ${file}`);

  beforeAll(async () => {
    built = await ensureTinyImage();
    work = await mkdtemp(join(tmpdir(), 'forge-image-test-'));
    const copy = join(work, 'image.img.gz');
    await copyFile(built.path, copy);
    raw = await decompressFile(ctx, 'gzip', copy);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('metadata matches the file and has the image_data shape', async () => {
    const meta = await readImageMeta(built.metaPath);
    expect(Object.keys(meta).sort()).toEqual(['container', 'format', 'md5', 'raw_md5', 'raw_sha256', 'raw_size', 'sha256', 'size', 'uri']);
    expect(meta).toMatchObject({ format: 'ext4', container: 'gzip', uri: `file://${built.path}` });
    const d = await digestFile(built.path);
    expect(d).toEqual({ size: meta.size, md5: meta.md5, sha256: meta.sha256 });
    const r = await digestFile(raw);
    expect(r).toEqual({ size: meta.raw_size, md5: meta.raw_md5, sha256: meta.raw_sha256 });
  });

  it('a second build with the same inputs comes from the cache', async () => {
    const again = await (await import('./build-image.js')).buildImage(ctx, { profile: 'tiny', hardware: 'vm' });
    expect(again.cached).toBe(true);
    expect(again.meta.sha256).toBe(built.meta.sha256);
  });

  it('passes e2fsck -fn', async () => {
    const r = await ctx.runner.run(e2fsckCheckArgv(raw), { readOnly: true, timeoutMs: 300_000 });
    expect(r.exitCode).toBe(0);
  });

  it('contains the kernel, its initramfs, GRUB for BIOS and EFI', async () => {
    const boot = await ls('/boot');
    expect(boot).toMatch(/vmlinuz-\d\S+-amd64/);
    expect(boot).toMatch(/initrd\.img-\d\S+-amd64/);
    expect(await ls('/usr/lib/grub/i386-pc')).toMatch(/boot\.img/);
    expect(await ls('/usr/lib/grub/x86_64-efi')).toMatch(/normal\.mod/);
    expect(await ls('/usr/sbin')).toMatch(/grub-install/);
    expect(await cat('/etc/default/grub.d/50-fuel-forge.cfg')).toMatch(/console=ttyS0/);
  });

  it('carries the signed Secure Boot chain grub-install looks for, and mokutil', async () => {
    // The exact paths the agent's bootloader step checks before it picks --uefi-secure-boot.
    for (const f of SIGNED_EFI_LOADERS) {
      const dir = f.slice(0, f.lastIndexOf('/'));
      expect(await ls(`/${dir}`), f).toContain(f.slice(f.lastIndexOf('/') + 1));
    }
    expect(await ls('/usr/lib/shim')).toMatch(/\bmmx64\.efi\.signed\b/);
    expect(await ls('/usr/bin')).toMatch(/\bmokutil\b/);
  });

  it('carries LVM and MD tools and their initramfs hooks (Fuel puts / on LVM, /boot on RAID1)', async () => {
    expect(await ls('/usr/sbin')).toMatch(/\blvm\b/);
    expect(await ls('/usr/sbin')).toMatch(/\bmdadm\b/);
    expect(await ls('/usr/share/initramfs-tools/hooks')).toMatch(/\blvm2\b/);
    expect(await ls('/usr/share/initramfs-tools/hooks')).toMatch(/\bmdadm\b/);
  });

  it("builds an initramfs that can bring up an LVM root: busybox, lvm, LVM's udev rules, mdadm", async () => {
    const kernel = /initrd\.img-(\d\S+-amd64)/.exec(await ls('/boot'))?.[1];
    expect(kernel).toBeDefined();
    const initrd = join(work, 'initrd.img.zst');
    await debugfs(ctx, raw, `dump /boot/initrd.img-${kernel} ${initrd}`);
    const cpio = await decompressFile(ctx, 'zstd', initrd);
    const files = await cpioList(ctx, cpio);
    // Our local-block script too: it activates a root VG whose PVs' udev scans raced.
    for (const f of ['usr/bin/busybox', 'usr/sbin/lvm', 'usr/lib/udev/rules.d/69-lvm.rules', 'usr/sbin/mdadm', 'scripts/local-block/fuel-forge-lvm']) {
      expect(files.some((p) => p === f || p.replace(/^usr\//, '') === f.replace(/^usr\//, '')), f).toBe(true);
    }
  });

  it('built for VM hardware: the initramfs has the drivers lab machines boot from, the image none of the absent hardware', async () => {
    const kernel = /initrd\.img-(\d\S+-amd64)/.exec(await ls('/boot'))?.[1];
    const initrd = join(work, 'initrd-vm.img.zst');
    await debugfs(ctx, raw, `dump /boot/initrd.img-${String(kernel)} ${initrd}`);
    const files = await cpioList(ctx, await decompressFile(ctx, 'zstd', initrd));
    const modules = new Set(files.filter((f) => f.endsWith('.ko')).map((f) => f.split('/').pop()));
    for (const m of ['virtio_blk.ko', 'virtio_pci.ko', 'virtio_net.ko', 'nvme.ko', 'ahci.ko', 'sd_mod.ko', 'raid1.ko', 'dm-mod.ko', 'ext4.ko']) {
      expect(modules.has(m), m).toBe(true);
    }
    const kdir = `/usr/lib/modules/${String(kernel)}/kernel`;
    // ACPI's power button reaches systemd-logind through evdev: without it a node ignores an ACPI power-off.
    expect(await ls(`${kdir}/drivers/input`)).toMatch(/\bevdev\.ko\b/);
    expect(await ls(`${kdir}/drivers/acpi`)).toMatch(/\bbutton\.ko\b/);
    expect(await ls(kdir)).not.toMatch(/\bsound\b/);
    expect(await ls(`${kdir}/drivers`)).not.toMatch(/\b(gpu|media|infiniband|usb)\b/);
    expect(await ls(`${kdir}/drivers`)).toMatch(/\bvirtio\b/);
    // SCSI's core stays (AHCI disks are sd_mod's), its HBA drivers go.
    expect(await ls(`${kdir}/drivers/scsi`)).toMatch(/\bsd_mod\.ko\b/);
    expect(await ls(`${kdir}/drivers/scsi`)).not.toMatch(/\b(lpfc|qla2xxx|mpt3sas|megaraid)\b/);
    expect(modules.has('lpfc.ko')).toBe(false);
    expect(built.meta.raw_size).toBeLessThan(900 * 2 ** 20);
  });

  it('has the system bus systemd-logind needs to act on the ACPI power button', async () => {
    expect(await ls('/usr/bin')).toMatch(/\bdbus-daemon\b/);
  });

  it('has its locale compiled and set as the default (cloud-init sets it on first boot)', async () => {
    expect(await cat('/etc/default/locale')).toBe(`LANG=${IMAGE_LOCALE}\n`);
    expect(await ls('/usr/lib/locale')).toMatch(/locale-archive/);
  });

  it('has cloud-init limited to ConfigDrive and NoCloud, sshd, ifupdown', async () => {
    expect(await cat(`/${DATASOURCE_CFG_PATH}`)).toBe(DATASOURCE_CFG);
    expect(await ls('/usr/bin')).toMatch(/\bcloud-init\b/);
    expect(await ls('/usr/sbin')).toMatch(/\bsshd\b/);
    expect(await ls('/usr/sbin')).toMatch(/\bifup\b/);
    expect(await cat('/etc/network/interfaces')).toContain('source /etc/network/interfaces.d/*');
  });

  it('holds no per-node state and uses the build mirror as its repository', async () => {
    expect(await cat('/etc/machine-id')).toBe('');
    expect(await ls('/etc/ssh')).not.toMatch(/ssh_host_/);
    expect(await ls('/var/lib/apt/lists')).not.toMatch(/Packages/);
    expect(await cat('/etc/apt/sources.list.d/debian.list')).toMatch(/^deb http\S+ bookworm main\n$/);
  });
});
