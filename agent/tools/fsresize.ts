// Growing a filesystem to fill its partition or LV: resize2fs works offline on the
// device; xfs only grows while mounted, so the caller mounts it first.
import type { Ctx } from '../core/context.js';

export function resize2fsArgv(device: string): string[] {
  // No size argument: grow to the size of the device.
  return ['resize2fs', device];
}

export function xfsGrowfsArgv(mountPoint: string): string[] {
  return ['xfs_growfs', mountPoint];
}

export async function growExt(ctx: Ctx, device: string): Promise<void> {
  await ctx.run(resize2fsArgv(device), { timeoutMs: 3_600_000 });
}

export async function growXfs(ctx: Ctx, mountPoint: string): Promise<void> {
  await ctx.run(xfsGrowfsArgv(mountPoint), { timeoutMs: 3_600_000 });
}
