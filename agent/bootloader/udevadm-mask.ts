// GRUB's tools without udevadm. On Linux, GRUB maps a partition to its device node by
// asking the start sector of every partition of the disk in turn, and asks it by
// forking `udevadm info --query path` each time: a grub-mkconfig on a two-disk RAID1 /
// LVM node forked udevadm 544 times (57 of its 103 s under TCG; a few seconds on
// hardware). When udevadm cannot be run, GRUB asks the kernel instead (HDIO_GETGEO,
// its own fallback): same start sectors, same grub.cfg (compared byte for byte on a lab
// node), no fork. Every disk driver a node boots from answers HDIO_GETGEO (sd, nvme,
// virtio, md, dm, xen); loop devices do not, so a plan on loop devices keeps udevadm.
import { lstat, realpath, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import { CHROOT_ENV } from '../tools/chroot.js';
import type { MountStack } from '../tools/mount.js';
import { inside } from './target-path.js';

/** Whether GRUB can do without udevadm for this plan: none of its partitioned disks is a loop device. */
export function canMaskUdevadm(plan: Plan): boolean {
  return !plan.parteds.some((d) => /^\/dev\/loop\d/.test(d.device));
}

/**
 * The target's udevadm files a chroot command could find through CHROOT_ENV's PATH,
 * as paths relative to the target with links resolved, each once (a merged /usr gives
 * /bin/udevadm and /usr/bin/udevadm as one file). A link that leaves the target is left alone.
 */
export async function targetUdevadmFiles(root: string): Promise<string[]> {
  const realRoot = await realpath(root);
  const found = new Set<string>();
  for (const dir of CHROOT_ENV.PATH!.split(':')) {
    const real = await realpath(join(root, dir, 'udevadm')).catch(() => undefined);
    if (!real) continue;
    if (inside(realRoot, real) && (await lstat(real)).isFile()) found.add(relative(realRoot, real));
  }
  return [...found].sort();
}

/**
 * Binds an empty, non-executable file over the target's udevadm until `stack` is
 * disposed (nothing on the target's disk changes). Returns the masked paths.
 */
export async function maskUdevadm(ctx: Ctx, stack: MountStack, plan: Plan, root: string): Promise<string[]> {
  if (!canMaskUdevadm(plan)) return [];
  const files = ctx.dryRun ? ['usr/bin/udevadm'] : await targetUdevadmFiles(root);
  if (!files.length) return [];
  const empty = join(await stack.tempDir('forge-grub-'), 'no-udevadm');
  if (!ctx.dryRun) await writeFile(empty, '', { mode: 0o644 });
  for (const f of files) await stack.mount(empty, join(root, f), { bind: true });
  ctx.log.info('bootloader.udevadm_masked', {
    paths: files.map((f) => `/${f}`),
    why: 'GRUB asks the kernel (HDIO_GETGEO) for partition starts instead of forking udevadm per partition',
  });
  return files.map((f) => `/${f}`);
}
