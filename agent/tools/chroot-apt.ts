// argv for commands run inside a root filesystem directory with chroot(8):
// apt-get, dpkg and small helpers. Never a shell string: each call is an argv.
import type { Ctx } from '../core/context.js';
import type { RunOptions, RunResult } from '../core/runner.js';

/** apt/dpkg must never ask a question: a build runs unattended. */
export const NONINTERACTIVE_ENV: Readonly<Record<string, string>> = {
  DEBIAN_FRONTEND: 'noninteractive',
  DEBCONF_NONINTERACTIVE_SEEN: 'true',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

export function chrootArgv(root: string, argv: readonly string[]): string[] {
  return ['chroot', root, ...argv];
}

export function aptInstallArgv(root: string, packages: readonly string[]): string[] {
  return chrootArgv(root, [
    'apt-get',
    'install',
    '-y',
    '--no-install-recommends',
    '-o',
    'Dpkg::Options::=--force-confdef',
    '-o',
    'Dpkg::Options::=--force-confold',
    ...packages,
  ]);
}

export function aptCleanArgv(root: string): string[] {
  return chrootArgv(root, ['apt-get', 'clean']);
}

export async function chrootRun(ctx: Ctx, root: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return ctx.runner.run(chrootArgv(root, argv), {
    timeoutMs: 30 * 60_000,
    ...opts,
    env: { ...NONINTERACTIVE_ENV, ...opts.env },
  });
}

export async function aptInstall(ctx: Ctx, root: string, packages: readonly string[]): Promise<void> {
  if (!packages.length) return;
  await ctx.runner.run(aptInstallArgv(root, packages), { timeoutMs: 60 * 60_000, env: { ...NONINTERACTIVE_ENV } });
}
