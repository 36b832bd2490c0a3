// Step 5: zero the first and last MiB of every new partition. Old superblocks
// (MD 1.0 at the end, LVM/filesystems at the start) sitting at the same
// boundaries would otherwise come back to life. Kept partitions are skipped.
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import { zeroRange } from '../tools/blkdiscard.js';
import { MiB } from '../plan/geometry.js';

/** Byte ranges to zero in a partition of `size` MiB: both ends, or all of a tiny one. */
export function wipeRanges(sizeMiB: number): { offset: number; length: number }[] {
  const bytes = sizeMiB * MiB;
  if (bytes <= 2 * MiB) return [{ offset: 0, length: bytes }];
  return [
    { offset: 0, length: MiB },
    { offset: bytes - MiB, length: MiB },
  ];
}

export async function wipeNewPartitions(ctx: Ctx, plan: Plan): Promise<void> {
  for (const disk of plan.parteds) {
    for (const p of disk.partitions) {
      if (p.keepData) continue;
      for (const r of wipeRanges(p.size)) await zeroRange(ctx, p.device, r.offset, r.length);
    }
  }
}
