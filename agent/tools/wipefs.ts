// wipefs argv lives here only: erase every filesystem/RAID/LVM/partition-table
// signature libblkid knows, so nothing stale auto-assembles later.
import type { Ctx } from '../core/context.js';

export function wipefsArgv(device: string): string[] {
  return ['wipefs', '--all', '--force', device];
}

export async function wipeSignatures(ctx: Ctx, device: string): Promise<void> {
  await ctx.run(wipefsArgv(device), { timeoutMs: 120_000 });
}
