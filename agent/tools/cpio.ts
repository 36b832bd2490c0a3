// cpio argv lives here only: packs a directory as a newc archive, the format the
// Linux kernel unpacks as an initramfs. Owner forced to root so a build run by
// any user boots the same.
import type { Ctx } from '../core/context.js';

/** The file list (NUL-separated, relative to `cwd`) is fed on stdin. */
export function cpioCreateArgv(archive: string): string[] {
  return ['cpio', '--create', '--format=newc', '--null', '--owner=0:0', '--quiet', `--file=${archive}`];
}

export async function cpioCreate(ctx: Ctx, dir: string, relPaths: readonly string[], archive: string): Promise<void> {
  await ctx.run(cpioCreateArgv(archive), {
    cwd: dir,
    input: relPaths.join('\0') + '\0',
    timeoutMs: 20 * 60_000,
  });
}

export function cpioListArgv(archive: string): string[] {
  return ['cpio', '--list', '--quiet', `--file=${archive}`];
}

/** Paths inside an uncompressed newc archive. */
export async function cpioList(ctx: Ctx, archive: string): Promise<string[]> {
  const r = await ctx.run(cpioListArgv(archive), { readOnly: true, timeoutMs: 120_000 });
  return r.stdout.split('\n').filter(Boolean);
}
