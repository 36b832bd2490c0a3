// Dropping what a root filesystem's hardware will never use: kernel module trees
// and paths nobody reads. Shared by the bootstrap ramdisk (real servers, so it
// keeps every storage and NIC driver) and the lab's VM image (QEMU's devices only).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { chrootRun } from '../../tools/chroot.js';

export interface PruneSpec {
  /** Module trees removed, relative to /usr/lib/modules/<version>/kernel. */
  prunedModules: readonly string[];
  /** Under kernel/drivers, everything else goes (files or directories, relative paths). */
  keptDrivers: readonly string[];
  /** Paths removed, relative to the root. */
  prunedPaths: readonly string[];
}

/** Removes everything under `dir` that is neither a kept path nor a parent of one. */
export async function keepOnly(dir: string, kept: readonly string[], prefix = ''): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const rel = prefix + name;
    if (kept.includes(rel)) continue;
    if (kept.some((k) => k.startsWith(rel + '/'))) await keepOnly(join(dir, name), kept, rel + '/');
    else await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** The root's newest kernel version (its /usr/lib/modules entry). */
export async function rootKernelVersion(root: string): Promise<string> {
  const v = (await readdir(join(root, 'usr/lib/modules')).catch(() => [] as string[])).sort().pop();
  if (!v) throw new ForgeError('BUILD_FAILED', `${root} has no /usr/lib/modules/<version>`);
  return v;
}

/** Prunes modules and paths, then rebuilds the module index so it matches what is left. */
export async function pruneRoot(ctx: Ctx, root: string, spec: PruneSpec): Promise<{ kernelVersion: string }> {
  const kernelVersion = await rootKernelVersion(root);
  const kdir = join(root, 'usr/lib/modules', kernelVersion, 'kernel');
  for (const d of spec.prunedModules) await rm(join(kdir, d), { recursive: true, force: true });
  await keepOnly(join(kdir, 'drivers'), spec.keptDrivers);
  for (const p of spec.prunedPaths) await rm(join(root, p), { recursive: true, force: true });
  await chrootRun(ctx, root, ['depmod', '-a', kernelVersion]);
  return { kernelVersion };
}
