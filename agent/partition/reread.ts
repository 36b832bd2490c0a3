// Step 4: make the kernel see the new tables and wait until every partition node
// exists with its planned size. Re-reads are retried while the device is busy
// (a stale holder releasing it), with BLKRRPART as the fallback.
import type { Ctx } from '../core/context.js';
import { ToolError } from '../core/runner.js';
import type { Plan } from '../plan/types.js';
import { rereadPtArgv } from '../tools/blockdev.js';
import { partprobeArgv } from '../tools/partprobe.js';
import { settle } from '../tools/udev.js';
import { MiB } from '../plan/geometry.js';
import { waitForNode } from './wait-node.js';

export interface RereadOptions {
  attempts?: number;
  delayMs?: number;
}

export async function rereadTable(ctx: Ctx, device: string, o: RereadOptions = {}): Promise<void> {
  const attempts = o.attempts ?? 5;
  let lastError: unknown;
  for (let i = 1; i <= attempts; i++) {
    try {
      await ctx.run(partprobeArgv(device), { timeoutMs: 60_000 });
      return;
    } catch (e) {
      if (!(e instanceof ToolError) || e.code === 'TOOL_MISSING') {
        lastError = e;
        break;
      }
      lastError = e;
      ctx.log.warn('partition.reread.retry', { device, attempt: i, stderr: e.result.stderr.trim().slice(-300) });
      if (i < attempts) await ctx.clock.sleep((o.delayMs ?? 500) * i, ctx.signal);
    }
  }
  try {
    await ctx.run(rereadPtArgv(device), { timeoutMs: 60_000 });
  } catch {
    throw lastError;
  }
}

export async function rereadAndWait(ctx: Ctx, plan: Plan, timeoutMs = 60_000): Promise<void> {
  for (const disk of plan.parteds) await rereadTable(ctx, disk.device);
  await settle(ctx);
  for (const disk of plan.parteds) {
    for (const p of disk.partitions) {
      await waitForNode(ctx, p.device, {
        sizeBytes: p.size * MiB,
        timeoutMs,
        nudge: () => rereadTable(ctx, disk.device, { attempts: 1 }),
      });
    }
  }
}
