// Target configuration and GRUB: mounts the written OS (deepest last), binds the
// kernel filesystems, writes fstab by UUID, cloud-init's datasource list, GRUB's
// defaults and a VG activation unit, installs GRUB (BIOS on every boot disk, UEFI
// removable path when there is an ESP), generates grub.cfg and checks it carries the
// plan's root and kernel parameters, and always unmounts everything, even on failure.
// Leaves: a target that boots from any boot disk with root found by UUID.
import { existsSync } from 'node:fs';
import { cp, lstat, mkdir, readdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import type { Plan, PlannedFs } from '../plan/types.js';
import { probeSignature } from '../tools/blkid.js';
import { chrootRun } from '../tools/chroot.js';
import { grubInstallBiosArgv, grubInstallEfiArgv, grubMkconfigArgv, SIGNED_EFI_LOADERS } from '../tools/grub.js';
import { MountStack } from '../tools/mount.js';
import { fstabEntries, mountDepth, renderFstab, type FstabEntry } from './fstab.js';
import { assertInsideTarget, targetPath } from './target-path.js';
import { maskUdevadm } from './udevadm-mask.js';
import { diskIdOf, GRUB_DPKG_CLOUD_FILE, grubDpkgCloudCfg, grubPcSelections, hasGrubPc } from './grub-pc-devices.js';
import { memoizeGrubProbe } from './grub-probe-memo.js';
import {
  CLOUD_DATASOURCE_FILE,
  cloudDatasourceCfg,
  GRUB_DROPIN_FILE,
  grubDefaults,
  grubDropIn,
  LVM_ACTIVATE_UNIT,
  LVM_ACTIVATE_WANTS,
  lvmActivateUnit,
} from './target-files.js';

export interface BootloaderReport {
  rootDevice: string;
  rootUuid: string;
  biosDisks: string[];
  /** What grub-pc will reinstall GRUB on when it is upgraded (its debconf answer): every BIOS disk. */
  grubPcDevices?: string[];
  efi: boolean;
  /** The ESP holds shim and the signed GRUB: the node boots with Secure Boot on (false: unsigned GRUB, Secure Boot off only). */
  efiSigned?: boolean;
  fstab: FstabEntry[];
  kernelParams: string;
  grubCfg: string;
  kernels: string[];
  /** The systemd unit that activates the plan's VGs at boot, when there are VGs. */
  lvmActivateUnit?: string;
  /** The other boot disks' ESPs that got a copy of the EFI tree. */
  espMirrors?: string[];
}

const BINDS = ['/dev', '/proc', '/sys', '/run'];

function mountable(fss: readonly PlannedFs[]): PlannedFs[] {
  return fss.filter((f) => f.type !== 'swap' && f.mount.startsWith('/')).sort((a, b) => mountDepth(a.mount) - mountDepth(b.mount));
}

async function readUuids(ctx: Ctx, fss: readonly PlannedFs[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const fs of fss) {
    const sig = await probeSignature(ctx, fs.device);
    if (sig.UUID) out.set(fs.device, sig.UUID);
    else if (ctx.dryRun) out.set(fs.device, `<uuid of ${fs.device}>`);
    else {
      throw new ForgeError('BOOTLOADER_FAILED', `${fs.device} (${fs.mount}) has no filesystem UUID: was it written?`, {
        details: { device: fs.device, mount: fs.mount, signature: sig },
      });
    }
  }
  return out;
}

/** Mounts the target tree under a fresh directory; every mount is registered on `stack`. */
export async function mountTarget(ctx: Ctx, plan: Plan, stack: MountStack): Promise<string> {
  const root = await stack.tempDir('forge-target-');
  const fss = mountable(plan.fss);
  if (!fss.some((f) => f.mount === '/')) {
    throw new ForgeError('PLAN_INVALID', 'the plan has no / filesystem to configure', { field: 'fss' });
  }
  for (const fs of fss) {
    const at = targetPath(root, fs.mount);
    if (!ctx.dryRun) {
      await mkdir(at, { recursive: true });
      await assertInsideTarget(root, at, fs.mount);
    }
    // The OS image carries its kernel in the root filesystem's /boot; a separate,
    // freshly made /boot would hide it. Move the image's /boot onto it first.
    const stash = fs.mount === '/boot' && !fs.fromImage && !ctx.dryRun ? await stashDir(stack, at) : undefined;
    await stack.mount(fs.device, at, { type: fs.type });
    if (stash && !(await kernelsIn(root)).length) {
      await cp(stash, at, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      ctx.log.info('bootloader.boot_copied', { from: 'image /boot', to: fs.device });
    }
  }
  for (const b of BINDS) {
    const at = join(root, b);
    if (!ctx.dryRun) await mkdir(at, { recursive: true });
    await stack.mount(b, at, { bind: true });
  }
  return root;
}

/** Creates /dev/disk/by-uuid/<uuid> in the target's /dev when missing; returns what it created. */
async function ensureUuidLink(root: string, device: string, uuid: string): Promise<string[]> {
  const dir = join(root, 'dev/disk/by-uuid');
  const link = join(dir, uuid);
  try {
    await lstat(link);
    return [];
  } catch {
    await mkdir(dir, { recursive: true });
    await symlink(device, link);
    return [link];
  }
}

async function stashDir(stack: MountStack, dir: string): Promise<string | undefined> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (!entries.some((e) => e.startsWith('vmlinuz-'))) return undefined;
  const stash = await stack.tempDir('forge-boot-');
  await cp(dir, stash, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return stash;
}

async function writeTargetFile(ctx: Ctx, root: string, rel: string, content: string): Promise<void> {
  ctx.log.info('bootloader.write_file', { path: `/${rel}`, bytes: Buffer.byteLength(content), dryRun: ctx.dryRun });
  if (ctx.dryRun) return;
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
}

/** Enables a unit the way `systemctl enable` would, without running anything in the target. */
async function linkTargetFile(ctx: Ctx, root: string, rel: string, target: string): Promise<void> {
  ctx.log.info('bootloader.link_file', { path: `/${rel}`, target, dryRun: ctx.dryRun });
  if (ctx.dryRun) return;
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await rm(p, { force: true });
  await symlink(target, p);
}

/** Whether the target boots systemd (the image may use another init: then no unit is written). */
function targetHasSystemd(root: string): boolean {
  return ['lib/systemd/systemd', 'usr/lib/systemd/systemd'].some((p) => existsSync(join(root, p)));
}

async function kernelsIn(root: string): Promise<string[]> {
  try {
    return (await readdir(join(root, 'boot'))).filter((f) => f.startsWith('vmlinuz-')).sort();
  } catch {
    return [];
  }
}

/**
 * The root= grub-mkconfig writes: the filesystem UUID, except on LVM, where it
 * always names the stable /dev/mapper/<vg>-<lv> path (GRUB's 10_linux never uses
 * a UUID through the LVM abstraction).
 */
export function expectedRootArg(plan: Plan, rootUuid: string): string {
  const rootDevice = plan.bootloader.rootDevice;
  return plan.lvs.some((l) => l.device === rootDevice) ? `root=${rootDevice}` : `root=UUID=${rootUuid}`;
}

/**
 * Kernel parameters absent from a `linux` line of grub.cfg (every menu entry must
 * carry them: the node's console and NIC naming depend on them).
 */
export function missingKernelParams(cfg: string, kernelParams: string): string[] {
  const want = kernelParams.split(/\s+/).filter(Boolean);
  const lines = cfg.split('\n').filter((l) => /^\s*linux(16|efi)?\s/.test(l)).map((l) => new Set(l.trim().split(/\s+/)));
  if (!lines.length) return want;
  return want.filter((p) => lines.some((l) => !l.has(p)));
}

/**
 * Answers grub-pc's install_devices with every disk GRUB went on (by-id, as grub-pc
 * names them) and keeps cloud-init's grub_dpkg from answering it again with one disk.
 */
async function recordGrubPcDevices(ctx: Ctx, root: string, disks: readonly string[]): Promise<string[] | undefined> {
  if (!disks.length || !(ctx.dryRun || hasGrubPc(root))) return undefined;
  // A dry run names the disks as planned: their by-id names are the node's to read.
  const devices = ctx.dryRun ? [...disks] : disks.map((d) => diskIdOf(d) ?? d);
  await chrootRun(ctx, root, ['debconf-set-selections'], { input: grubPcSelections(devices) });
  await writeTargetFile(ctx, root, GRUB_DPKG_CLOUD_FILE, grubDpkgCloudCfg());
  ctx.log.info('bootloader.grub_pc_devices', {
    devices,
    why: 'an upgrade of grub-pc reinstalls GRUB on these; cloud-init would have named only the disk holding /boot',
  });
  return devices;
}

async function configure(ctx: Ctx, plan: Plan, root: string, stack: MountStack): Promise<BootloaderReport> {
  const bl = plan.bootloader;
  const uuids = await readUuids(ctx, plan.fss.filter((f) => f.type === 'swap' || f.mount.startsWith('/')));
  const fstab = fstabEntries(plan.fss, uuids);
  const rootFs = plan.fss.find((f) => f.mount === '/');
  const rootUuid = (rootFs && uuids.get(rootFs.device)) ?? '';
  await writeTargetFile(ctx, root, 'etc/fstab', renderFstab(fstab));
  await writeTargetFile(ctx, root, CLOUD_DATASOURCE_FILE, cloudDatasourceCfg());
  const defaultsPath = join(root, 'etc/default/grub');
  const existing = !ctx.dryRun && existsSync(defaultsPath) ? await readFile(defaultsPath, 'utf8') : '';
  await writeTargetFile(ctx, root, 'etc/default/grub', grubDefaults(existing, bl.kernelParams));
  await writeTargetFile(ctx, root, GRUB_DROPIN_FILE, grubDropIn(bl.kernelParams));

  const vgNames = plan.vgs.map((v) => v.name);
  const lvmUnit = vgNames.length > 0 && (ctx.dryRun || targetHasSystemd(root));
  if (lvmUnit) {
    await writeTargetFile(ctx, root, LVM_ACTIVATE_UNIT, lvmActivateUnit(vgNames));
    await linkTargetFile(ctx, root, LVM_ACTIVATE_WANTS, `/${LVM_ACTIVATE_UNIT}`);
  }

  const kernels = ctx.dryRun ? [] : await kernelsIn(root);
  if (!ctx.dryRun && !kernels.length) {
    throw new ForgeError('BOOTLOADER_FAILED', 'the target has no kernel in /boot (vmlinuz-*): the image cannot boot', {
      details: { root: rootFs?.device },
    });
  }
  const inTarget = (argv: string[]) => chrootRun(ctx, root, argv);
  const efiSigned = bl.espDevice ? !ctx.dryRun && (await efiLoadersSigned(root)) : undefined;
  if (bl.espDevice && !efiSigned) {
    ctx.log.warn('bootloader.efi_unsigned', {
      why: ctx.dryRun ? 'dry run: the target is not mounted' : `the image has no ${SIGNED_EFI_LOADERS.join(' / ')} (shim-signed, grub-efi-amd64-signed)`,
      effect: 'the ESP gets an unsigned GRUB: this node boots with Secure Boot off only',
    });
  }
  // Every boot disk's BIOS install, then the ESP's. The first fills /boot/grub (modules,
  // fonts); the rest (the same files again, plus each one's own boot code) then run
  // beside grub-mkconfig, which only writes grub.cfg: under TCG each GRUB tool takes
  // tens of seconds.
  await maskUdevadm(ctx, stack, plan, root);
  await memoizeGrubProbe(ctx, stack, root);
  const [first, ...rest] = [
    ...bl.disks.map((disk) => grubInstallBiosArgv(disk)),
    ...(bl.espDevice ? [grubInstallEfiArgv('/boot/efi', efiSigned)] : []),
  ];
  if (first) await inTarget(first);
  const installs = (async (): Promise<void> => {
    for (const argv of rest) await inTarget(argv);
  })();
  const mkconfig = (async (): Promise<void> => {
    // grub-mkconfig writes root=UUID= only when /dev/disk/by-uuid/<uuid> exists; without
    // udevd (this host, some ramdisks) nobody made it, so provide the link for the call.
    const links = ctx.dryRun || !rootFs ? [] : await ensureUuidLink(root, rootFs.device, rootUuid);
    try {
      await inTarget(grubMkconfigArgv('/boot/grub/grub.cfg'));
    } finally {
      for (const l of links) await rm(l, { force: true });
      // Remove the directories too when we made them and they are empty again.
      if (links.length) for (const d of ['dev/disk/by-uuid', 'dev/disk']) await rmdir(join(root, d)).catch(() => undefined);
    }
  })();
  // Both settle before anything else happens in the target; an install's failure is named first.
  const [installed, configured] = await Promise.allSettled([installs, mkconfig]);
  if (installed.status === 'rejected') throw installed.reason;
  if (configured.status === 'rejected') throw configured.reason;
  const grubPcDevices = await recordGrubPcDevices(ctx, root, bl.disks);

  if (!ctx.dryRun) {
    const cfg = await readFile(join(root, 'boot/grub/grub.cfg'), 'utf8');
    const want = expectedRootArg(plan, rootUuid);
    if (!cfg.split(/\s+/).includes(want)) {
      throw new ForgeError('BOOTLOADER_FAILED', `grub.cfg does not boot ${want}`, { details: { rootUuid, rootDevice: bl.rootDevice } });
    }
    const missing = missingKernelParams(cfg, bl.kernelParams);
    if (missing.length) {
      throw new ForgeError('BOOTLOADER_FAILED', `grub.cfg boots without the kernel parameters ${missing.join(' ')} (a GRUB setting in the image overrides them?)`, {
        field: 'ks_meta.pm_data.kernel_params',
        details: { missing, kernelParams: bl.kernelParams },
      });
    }
  }
  return {
    rootDevice: bl.rootDevice,
    rootUuid,
    biosDisks: [...bl.disks],
    ...(grubPcDevices ? { grubPcDevices } : {}),
    efi: Boolean(bl.espDevice),
    ...(efiSigned === undefined ? {} : { efiSigned }),
    fstab,
    kernelParams: bl.kernelParams,
    grubCfg: '/boot/grub/grub.cfg',
    kernels,
    ...(lvmUnit ? { lvmActivateUnit: `/${LVM_ACTIVATE_UNIT}` } : {}),
  };
}

/**
 * The other boot disks' ESPs get the mounted ESP's EFI tree (shim/GRUB and GRUB's
 * pointer to /boot), replacing whatever was there: with a RAID1 /boot, either disk
 * alone boots. Package upgrades later update /boot/efi only (see NOTES).
 */
async function mirrorEsps(ctx: Ctx, stack: MountStack, root: string, mirrors: readonly string[]): Promise<void> {
  for (const dev of mirrors) {
    const at = await stack.tempDir('forge-esp-');
    await stack.mount(dev, at, { type: 'vfat' });
    if (ctx.dryRun) continue;
    await rm(join(at, 'EFI'), { recursive: true, force: true });
    await cp(join(root, 'boot/efi/EFI'), join(at, 'EFI'), { recursive: true });
    ctx.log.info('bootloader.esp_mirrored', { from: '/boot/efi', to: dev });
  }
}

/** Both of Debian's signed EFI loaders are in the mounted target (regular files, as their packages install them). */
export async function efiLoadersSigned(root: string): Promise<boolean> {
  const found = await Promise.all(SIGNED_EFI_LOADERS.map((rel) => lstat(join(root, rel)).then((s) => s.isFile(), () => false)));
  return found.every(Boolean);
}

/** Everything it needs is in the plan (root, ESP, disks, kernel parameters): it reads no provision data. */
export async function installBootloader(ctx: Ctx, plan: Plan): Promise<BootloaderReport> {
  const stack = new MountStack(ctx);
  let result: BootloaderReport | undefined;
  let failure: unknown;
  try {
    const root = await mountTarget(ctx, plan, stack);
    result = await configure(ctx, plan, root, stack);
    const mirrors = plan.bootloader.espMirrors ?? [];
    if (mirrors.length) {
      await mirrorEsps(ctx, stack, root, mirrors);
      result = { ...result, espMirrors: [...mirrors] };
    }
  } catch (e) {
    failure = isForgeError(e) ? e : new ForgeError('BOOTLOADER_FAILED', `bootloader: ${(e as Error).message}`, { cause: e });
  }
  // Unmount whatever happened; an unmount failure only wins when nothing else failed.
  try {
    await stack.dispose();
  } catch (e) {
    failure ??= new ForgeError('MOUNT_FAILED', `could not unmount the target: ${(e as Error).message}`, { cause: e });
  }
  if (failure) throw failure;
  return result as BootloaderReport;
}
