// Filesystem checks after an image is written: e2fsck repairs what it safely can,
// xfs_repair only looks (-n): repairing xfs needs a log replay by mounting first.
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';

export type CheckableFs = 'ext2' | 'ext3' | 'ext4' | 'xfs';

export function fsckArgv(fs: CheckableFs, device: string): string[] {
  return fs === 'xfs' ? ['xfs_repair', '-n', device] : ['e2fsck', '-fy', device];
}

/** e2fsck: 0 clean, 1 errors fixed, 2 fixed and wants a reboot (irrelevant: not mounted). */
const OK_EXIT: Record<CheckableFs, number[]> = { ext2: [0, 1, 2], ext3: [0, 1, 2], ext4: [0, 1, 2], xfs: [0] };

export async function checkFilesystem(ctx: Ctx, fs: CheckableFs, device: string): Promise<{ repaired: boolean }> {
  const argv = fsckArgv(fs, device);
  // Let every defined exit status through so the judgement (and its message) is made here.
  const r = await ctx.run(argv, { okExitCodes: [0, 1, 2, 4, 8, 12], timeoutMs: 3_600_000 });
  if (!OK_EXIT[fs].includes(r.exitCode)) {
    throw new ForgeError('TOOL_FAILED', `${argv[0]} found errors it could not fix on ${device} (exit ${r.exitCode})`, {
      command: argv,
      details: { exitCode: r.exitCode, stdoutTail: r.stdout.slice(-2000), stderrTail: r.stderr.slice(-2000) },
    });
  }
  return { repaired: fs !== 'xfs' && r.exitCode !== 0 };
}
