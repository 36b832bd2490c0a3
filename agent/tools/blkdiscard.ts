// blkdiscard argv lives here only. `--zeroout` uses BLKZEROOUT, which every block
// device supports (the kernel falls back to writing zeroes), to clear byte ranges
// where stale superblocks hide (first and last MiB of a partition).
import type { Ctx } from '../core/context.js';

export function zeroRangeArgv(device: string, offset: number, length: number): string[] {
  // --force: skip the "contains existing signature" check; erasing it is the point.
  return ['blkdiscard', '--force', '--zeroout', '--offset', String(offset), '--length', String(length), device];
}

export async function zeroRange(ctx: Ctx, device: string, offset: number, length: number): Promise<void> {
  await ctx.run(zeroRangeArgv(device, offset, length), { timeoutMs: 120_000 });
}
