// GRUB's tools without udevadm. On Linux, GRUB maps a partition to its device node by
// asking the start sector of every partition of the disk in turn, and asks it by
// forking `udevadm info --query path` each time: a grub-mkconfig on a two-disk RAID1 /
// LVM node forked udevadm 544 times (57 of its 103 s under TCG; a few seconds on
// hardware). When udevadm cannot be run, GRUB asks the kernel instead (HDIO_GETGEO,
// its own fallback): same start sectors, same grub.cfg (compared byte for byte on a lab
// node), no fork. Every disk driver a node boots from answers HDIO_GETGEO (sd, nvme,
// virtio, md, dm, xen); loop devices do not, so a plan on loop devices keeps udevadm.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import type { MountStack } from '../tools/mount.js';
import { targetToolFiles } from './target-path.js';

/** Whether GRUB can do without udevadm for this plan: none of its partitioned disks is a loop device. */
export function canMaskUdevadm(plan: Plan): boolean {
  return !plan.parteds.some((d) => /^\/dev\/loop\d/.test(d.device));
}

/**
 * Binds an empty, non-executable file over the target's udevadm until `stack` is
 * disposed (nothing on the target's disk changes). Returns the masked paths.
 */
export async function maskUdevadm(ctx: Ctx, stack: MountStack, plan: Plan, root: string): Promise<string[]> {
  if (!canMaskUdevadm(plan)) return [];
  const files = ctx.dryRun ? ['usr/bin/udevadm'] : await targetToolFiles(root, 'udevadm');
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
