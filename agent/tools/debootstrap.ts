// debootstrap argv lives here only. Builds a Debian root filesystem from a mirror
// into a directory — no loop devices or mounts, so it works inside containers.
import type { Ctx } from '../core/context.js';

export interface DebootstrapOptions {
  suite: string;
  target: string;
  mirror: string;
  /** `minbase` keeps the ramdisk and the tiny image small; undefined = Debian's default set. */
  variant?: 'minbase' | 'buildd' | 'fakechroot';
  include?: readonly string[];
  exclude?: readonly string[];
  components?: readonly string[];
  /** Shared .deb cache: a second build with the same packages downloads nothing. */
  cacheDir?: string;
  arch?: string;
}

export function debootstrapArgv(o: DebootstrapOptions): string[] {
  const argv = ['debootstrap'];
  if (o.variant) argv.push(`--variant=${o.variant}`);
  if (o.arch) argv.push(`--arch=${o.arch}`);
  if (o.components?.length) argv.push(`--components=${o.components.join(',')}`);
  if (o.include?.length) argv.push(`--include=${[...o.include].sort().join(',')}`);
  if (o.exclude?.length) argv.push(`--exclude=${[...o.exclude].sort().join(',')}`);
  if (o.cacheDir) argv.push(`--cache-dir=${o.cacheDir}`);
  argv.push(o.suite, o.target, o.mirror);
  return argv;
}

/** A full debootstrap takes minutes on a slow mirror; allow up to an hour. */
export async function debootstrap(ctx: Ctx, o: DebootstrapOptions): Promise<void> {
  await ctx.run(debootstrapArgv(o), {
    timeoutMs: 60 * 60_000,
    env: { DEBIAN_FRONTEND: 'noninteractive', DEBCONF_NONINTERACTIVE_SEEN: 'true' },
  });
}
