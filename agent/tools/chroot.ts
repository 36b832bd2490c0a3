// chroot argv for the target-configuration step lives here: commands that must
// run inside the freshly written OS (grub-install, grub-mkconfig) with a clean
// PATH and no prompts, whatever the bootstrap environment has set.
import type { Ctx } from '../core/context.js';
import type { RunOptions, RunResult } from '../core/runner.js';

export const TARGET_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  DEBIAN_FRONTEND: 'noninteractive',
};

export function inTargetArgv(root: string, argv: readonly string[]): string[] {
  return ['chroot', root, ...argv];
}

export async function runInTarget(ctx: Ctx, root: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return ctx.runner.run(inTargetArgv(root, argv), {
    timeoutMs: 10 * 60_000,
    signal: ctx.signal,
    ...opts,
    env: { ...TARGET_ENV, ...opts.env },
  });
}
