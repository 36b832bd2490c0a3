// Packs a root filesystem directory into a raw ext4 image file with
// `mkfs.ext4 -d` (no mount, no loop device), shrinks it to its contents plus
// headroom, and compresses it.
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

export async function packExt4(
  ctx: Ctx,
  dir: string,
  image: string,
  opts: { label?: string } = {},
): Promise<PackResult> {
  const used = await duKiB(ctx, dir);
  // Start generously (metadata, inode tables), then shrink.
  let size = Math.ceil(used * 1.4) + 256 * MiB_KiB;
  for (let attempt = 0; ; attempt++) {
    await rm(image, { force: true });
    try {
      await ctx.run(
        mkfsExt4FromDirArgv({ image, sourceDir: dir, sizeKiB: size, ...(opts.label ? { label: opts.label } : {}) }),
        { timeoutMs: 30 * 60_000 },
      );
      break;
    } catch (e) {
      if (!(e instanceof ToolError) || attempt >= 2 || !/space|inode/i.test(e.result.stderr)) throw e;
      size *= 2;
    }
  }
  await ctx.run(e2fsckFixArgv(image), { okExitCodes: [0, 1], timeoutMs: 20 * 60_000 });
  await ctx.run(resize2fsArgv(image), { timeoutMs: 20 * 60_000 });
  const min = await ext4Geometry(ctx, image);
  const usedKiB = ((min.blockCount - min.freeBlocks) * min.blockSize) / 1024;
  const target = Math.ceil(((min.blockCount * min.blockSize) / 1024 + headroomKiB(usedKiB)) / 4096) * 4096;
  await resizeKiB(ctx, image, target);
  const g = await ext4Geometry(ctx, image);
  const bytes = g.blockCount * g.blockSize;
  // resize2fs leaves the file at its old length when shrinking: cut it to the filesystem.
  await truncate(image, bytes);
  const st = await stat(image);
  return { rawSize: st.size, blockCount: g.blockCount, freeBlocks: g.freeBlocks };
}
