// The ramdisk's Debian root (debootstrap minbase + RAMDISK_PACKAGES, pruned),
// cached on its own key so re-bundling the agent never re-runs debootstrap.
// Leaves: <cache>/bootstrap/rootfs-<key>/{root/, vmlinuz, kernel-version, base.cpio.zst}.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mirrorForSuite, readAptSources } from '../build/apt-sources.js';
import { cachedBuild } from '../build/cached-build.js';
import type { Ctx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { debootstrapCached } from '../build/debootstrap-cached.js';
import { packCpio } from './pack.js';
import { keepOnly, pruneRoot } from '../build/prune-root.js';
import { GCONV_DIR, GCONV_KEPT, KEPT_DRIVER_DIRS, PRUNED_MODULE_DIRS, PRUNED_PATHS, RAMDISK_PACKAGES } from './packages.js';

/** Bump when the rootfs steps change: forces a new debootstrap. */
export const RAMDISK_ROOTFS_VERSION = 2;

export interface RootfsInputs {
  version: number;
  suite: string;
  mirror: string;
  packages: string[];
  prunedModules: string[];
  prunedPaths: string[];
  keptDrivers: string[];
  keptGconv: string[];
}

export interface RamdiskRootfs {
  dir: string;
  root: string;
  vmlinuz: string;
  kernelVersion: string;
  /** The pruned root packed as a compressed newc archive (the initrd's first part). */
  baseArchive: string;
  key: string;
  cached: boolean;
}

export async function resolveRootfsInputs(o: { suite?: string; mirror?: string; packages?: readonly string[] }): Promise<RootfsInputs> {
  const suite = o.suite ?? 'bookworm';
  const mirror = o.mirror ?? mirrorForSuite(await readAptSources(), suite);
  if (!mirror) throw new ForgeError('USAGE', `no apt source on this machine carries suite ${suite}; pass --mirror URL`, { field: 'mirror' });
  return {
    version: RAMDISK_ROOTFS_VERSION,
    suite,
    mirror: mirror.replace(/\/+$/, ''),
    packages: [...new Set([...RAMDISK_PACKAGES, ...(o.packages ?? [])])].sort(),
    prunedModules: [...PRUNED_MODULE_DIRS],
    prunedPaths: [...PRUNED_PATHS],
    keptDrivers: [...KEPT_DRIVER_DIRS],
    keptGconv: [...GCONV_KEPT],
  };
}

export function rootfsKey(i: RootfsInputs): string {
  return createHash('sha256').update(JSON.stringify(i)).digest('hex').slice(0, 16);
}

async function exists(p: string): Promise<boolean> {
  return readFile(p).then(
    () => true,
    () => false,
  );
}

async function prune(ctx: Ctx, root: string, inputs: RootfsInputs): Promise<{ kernelVersion: string }> {
  const r = await pruneRoot(ctx, root, { prunedModules: inputs.prunedModules, keptDrivers: inputs.keptDrivers, prunedPaths: inputs.prunedPaths });
  await keepOnly(join(root, GCONV_DIR), inputs.keptGconv);
  // Pruned paths include apt's caches: the directories tools expect come back empty.
  for (const d of ['var/log', 'var/lib/dhcp', 'var/cache/apt/archives/partial', 'var/lib/apt/lists/partial', 'run', 'tmp']) {
    await mkdir(join(root, d), { recursive: true });
  }
  return r;
}

export async function buildRamdiskRootfs(
  ctx: Ctx,
  cacheDir: string,
  o: { suite?: string; mirror?: string; packages?: readonly string[]; force?: boolean } = {},
): Promise<RamdiskRootfs> {
  const inputs = await resolveRootfsInputs(o);
  const key = rootfsKey(inputs);
  const base = join(cacheDir, 'bootstrap');
  const dir = join(base, `rootfs-${key}`);
  const r = await cachedBuild(ctx, {
    what: 'ramdisk root build',
    lock: join(base, `rootfs-${key}.lock`),
    work: `${dir}.partial`,
    into: dir,
    force: o.force,
    cached: async () =>
      (await exists(join(dir, 'done')))
        ? {
            dir,
            root: join(dir, 'root'),
            vmlinuz: join(dir, 'vmlinuz'),
            kernelVersion: (await readFile(join(dir, 'kernel-version'), 'utf8')).trim(),
            baseArchive: join(dir, 'base.cpio.zst'),
            key,
          }
        : undefined,
    build: async (work) => {
      const root = join(work, 'root');
      ctx.log.info('bootstrap.debootstrap', { suite: inputs.suite, mirror: inputs.mirror });
      await debootstrapCached(ctx, cacheDir, root, { ...inputs, variant: 'minbase' });
      const boot = await readdir(join(root, 'boot'));
      const vmlinuz = boot.filter((n) => n.startsWith('vmlinuz-')).sort().pop();
      if (!vmlinuz) throw new ForgeError('BUILD_FAILED', 'debootstrap installed no /boot/vmlinuz-*');
      await copyFile(join(root, 'boot', vmlinuz), join(work, 'vmlinuz'));
      const { kernelVersion } = await prune(ctx, root, inputs);
      await writeFile(join(work, 'kernel-version'), kernelVersion + '\n');
      await packCpio(ctx, root, join(work, 'base.cpio'), 'zstd');
      await writeFile(join(work, 'inputs.json'), JSON.stringify({ key, inputs }, null, 2) + '\n');
      await writeFile(join(work, 'done'), new Date(ctx.clock.now()).toISOString() + '\n');
    },
  });
  return { ...r.value, cached: r.cached };
}
