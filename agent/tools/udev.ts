// udevadm argv lives here only. Scoped to the block subsystem: a full trigger
// replays NIC events and can hang a bootstrap node. Where no udevd runs, settle
// returns at once, so callers still poll for device nodes themselves.
import type { Ctx } from '../core/context.js';

export function settleArgv(timeoutS = 30): string[] {
  return ['udevadm', 'settle', `--timeout=${timeoutS}`];
}

/** Best effort: a missing or failing udevadm must not stop provisioning. */
export async function settle(ctx: Ctx, timeoutS = 30): Promise<void> {
  await ctx.runner
    .run(settleArgv(timeoutS), { readOnly: true, timeoutMs: (timeoutS + 5) * 1000, okExitCodes: [0, 1], signal: ctx.signal })
    .catch((e: unknown) => ctx.log.debug('udev.settle.failed', { error: String(e) }));
}
