// Step 10: filesystems and swap, with labels and the data's mkfs options.
// Skips filesystems an image will fill and keep_data ones. Leaves: every
// mkfs-made filesystem in place.
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import { mkfsArgv } from '../tools/mkfs.js';
import { waitForNode } from './wait-node.js';

export async function makeFilesystems(ctx: Ctx, plan: Plan, timeoutMs = 60_000): Promise<void> {
  for (const fs of plan.fss) {
    if (fs.fromImage || fs.keepData) continue;
    await waitForNode(ctx, fs.device, { timeoutMs });
    await ctx.run(
      mkfsArgv({ device: fs.device, type: fs.type, ...(fs.label ? { label: fs.label } : {}), options: fs.mkfsOptions }),
      { timeoutMs: 600_000 },
    );
  }
}
