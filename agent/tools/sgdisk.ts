// sgdisk argv lives here only.
import type { Ctx } from '../core/context.js';

/** Move the backup GPT header to the real end of the disk (after writing a smaller whole-disk image). */
export function sgdiskMoveBackupArgv(disk: string): string[] {
  return ['sgdisk', '-e', disk];
}

export async function moveBackupGpt(ctx: Ctx, disk: string): Promise<void> {
  await ctx.runner.run(sgdiskMoveBackupArgv(disk), { timeoutMs: 120_000 });
}
