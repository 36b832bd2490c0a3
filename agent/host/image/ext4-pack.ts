// Packs a root filesystem directory into a raw ext4 image file with
// `mkfs.ext4 -d` (no mount, no loop device), as small as its contents plus
// headroom allow.
import { rm, stat, truncate } from 'node:fs/promises';
import type { Ctx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { ToolError } from '../../core/runner.js';
import {
  e2fsckFixArgv,
  ext4Geometry,
  mkfsExt4FromDirArgv,
  resize2fsArgv,
} from '../../tools/e2fs-image.js';

const MiB_KiB = 1024;

export interface PackResult {
  rawSize: number;
  blockCount: number;
  freeBlocks: number;
}

async function duKiB(ctx: Ctx, dir: string): Promise<number> {
  const r = await ctx.run(['du', '-s', '-x', '--block-size=1K', dir], { readOnly: true, timeoutMs: 10 * 60_000 });
  const n = Number(r.stdout.trim().split(/\s+/)[0]);
  if (!Number.isFinite(n)) throw new ForgeError('BUILD_FAILED', `du printed no size for ${dir}`);
  return n;
}

/** Free space kept in the shrunk image: the agent grows the filesystem to its partition anyway. */
export function headroomKiB(usedKiB: number): number {
  return Math.max(64 * MiB_KiB, Math.ceil(usedKiB * 0.05));
}

async function resizeKiB(ctx: Ctx, image: string, sizeKiB: number): Promise<void> {
  await ctx.run(resize2fsArgv(image, sizeKiB), { timeoutMs: 20 * 60_000 });
}

/**
 * The first size tried: the content, ext4's own overhead (inode tables, bitmaps,
 * the journal; ~5 % plus a fixed part) and the headroom. resize2fs -M cannot get
 * there from a generous start: its minimum keeps a third of the deploy image free.
 */
export function firstSizeKiB(usedKiB: number): number {
  return Math.ceil(usedKiB * 1.05) + headroomKiB(usedKiB) + 48 * MiB_KiB;
}

/**
 * Every node writes the whole raw image, so it is made as small as its content
 * allows: mkfs at the tight size first, 10 % more each time it does not fit,
 * then grown to the headroom if it came out short.
 */
export async function packExt4(
  ctx: Ctx,
  dir: string,
  image: string,
  opts: { label?: string } = {},
): Promise<PackResult> {
  const used = await duKiB(ctx, dir);
  let size = firstSizeKiB(used);
  for (let attempt = 0; ; attempt++) {
    await rm(image, { force: true });
    try {
      await ctx.run(
        mkfsExt4FromDirArgv({ image, sourceDir: dir, sizeKiB: size, ...(opts.label ? { label: opts.label } : {}) }),
        { timeoutMs: 30 * 60_000 },
      );
      break;
    } catch (e) {
      if (!(e instanceof ToolError) || attempt >= 8 || !/space|inode|allocat/i.test(e.result.stderr)) throw e;
      size = Math.ceil((size * 1.1) / 4096) * 4096;
    }
  }
  await ctx.run(e2fsckFixArgv(image), { okExitCodes: [0, 1], timeoutMs: 20 * 60_000 });
  const made = await ext4Geometry(ctx, image);
  const usedKiB = ((made.blockCount - made.freeBlocks) * made.blockSize) / 1024;
  const shortKiB = headroomKiB(usedKiB) - (made.freeBlocks * made.blockSize) / 1024;
  if (shortKiB > 0) await resizeKiB(ctx, image, Math.ceil(((made.blockCount * made.blockSize) / 1024 + shortKiB) / 4096) * 4096);
  const g = await ext4Geometry(ctx, image);
  const bytes = g.blockCount * g.blockSize;
  // mkfs sized the file; a grow extends it. Either way the file is the filesystem.
  await truncate(image, bytes);
  const st = await stat(image);
  return { rawSize: st.size, blockCount: g.blockCount, freeBlocks: g.freeBlocks };
}
