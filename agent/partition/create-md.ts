// Step 6: MD arrays. Members' superblocks are zeroed first so mdadm never asks
// about (or resurrects) an old array; kept arrays are only assembled.
// Leaves: every planned array running, its node present.
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import { mdAssembleArgv, mdCreateArgv, mdZeroSuperblockArgv } from '../tools/mdadm.js';
import { nodeState, waitForNode } from './wait-node.js';

export async function createMdArrays(ctx: Ctx, plan: Plan, timeoutMs = 60_000): Promise<void> {
  for (const md of plan.mds) {
    if (md.keepData) {
      if (!(await nodeState(md.device)).isBlock) {
        await ctx.run(mdAssembleArgv(md.device, md.members), { timeoutMs: 120_000 });
      }
    } else {
      for (const m of md.members) {
        // Exit 1: nothing to zero on a freshly wiped member.
        await ctx.run(mdZeroSuperblockArgv(m), { okExitCodes: [0, 1], timeoutMs: 60_000 });
      }
      await ctx.run(
        mdCreateArgv({ device: md.device, name: md.name, level: md.level, metadata: md.metadata, members: md.members }),
        { timeoutMs: 300_000 },
      );
    }
    await waitForNode(ctx, md.device, { timeoutMs });
  }
}
