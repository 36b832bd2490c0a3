// Commands that run inside a root filesystem directory with chroot(8): the
// target's grub-install/grub-mkconfig, and the builders' dpkg-query, locale-gen
// and depmod. A clean PATH and no prompts, whatever the caller's environment.
import type { Ctx } from '../core/context.js';
import type { RunOptions, RunResult } from '../core/runner.js';

/** apt/dpkg and grub's scripts must never ask a question: nobody is there to answer. */
export const CHROOT_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  DEBIAN_FRONTEND: 'noninteractive',
  DEBCONF_NONINTERACTIVE_SEEN: 'true',
};

export function chrootArgv(root: string, argv: readonly string[]): string[] {
  return ['chroot', root, ...argv];
}

export async function chrootRun(ctx: Ctx, root: string, argv: readonly string[], opts: Omit<RunOptions, 'signal'> = {}): Promise<RunResult> {
  return ctx.run(chrootArgv(root, argv), {
    timeoutMs: 10 * 60_000,
    ...opts,
    env: { ...CHROOT_ENV, ...opts.env },
  });
}
