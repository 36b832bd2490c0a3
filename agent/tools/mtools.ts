// mtools argv lives here only: reads and writes a FAT filesystem image or device
// without mounting it (no loop-mount, works in containers and on a bare ramdisk).
import type { Ctx } from '../core/context.js';

/** mtools refuses some geometries of valid filesystems mkfs.vfat makes; skip that check. */
const ENV = { MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0' };

/** Copy local files or directories (recursively) into a directory of the filesystem. */
export function mcopyArgv(device: string, sources: readonly string[], destDir = ''): string[] {
  return ['mcopy', '-i', device, '-s', '-o', '-Q', ...sources, `::/${destDir}`];
}

/** Print one file's content. */
export function mtypeArgv(device: string, path: string): string[] {
  return ['mtype', '-i', device, `::/${path}`];
}

/** Recursive bare listing: one path per line. */
export function mdirArgv(device: string, dir = ''): string[] {
  return ['mdir', '-i', device, '-/', '-b', `::/${dir}`];
}

export async function mcopy(ctx: Ctx, device: string, sources: readonly string[], destDir = ''): Promise<void> {
  await ctx.run(mcopyArgv(device, sources, destDir), { env: ENV, timeoutMs: 120_000 });
}

export async function mtype(ctx: Ctx, device: string, path: string): Promise<string> {
  const r = await ctx.run(mtypeArgv(device, path), { env: ENV, readOnly: true, timeoutMs: 60_000 });
  return r.stdout;
}

/** Paths relative to the root, e.g. `openstack/latest/meta_data.json`. */
export async function listFiles(ctx: Ctx, device: string): Promise<string[]> {
  const r = await ctx.run(mdirArgv(device), { env: ENV, readOnly: true, timeoutMs: 60_000 });
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('::/'))
    .map((l) => l.slice(3).replace(/\/$/, ''))
    .filter(Boolean);
}
