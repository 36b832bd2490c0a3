// Where a planned mount point lands under the mounted target. A mount point is
// data; `join(root, "/../../etc")` is the ramdisk's own /etc, and a symlink in
// the image (`srv -> /etc`) followed from outside the chroot is too. Both are
// refused before anything is mounted there.
import { lstat, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { displayValue } from '../core/display.js';
import { CHROOT_ENV } from '../tools/chroot.js';

/** `p` is `root` or below it (lexically: resolve links first where they matter). */
export function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The lexical path of `mount` under `root`; throws when it would leave `root`. */
export function targetPath(root: string, mount: string): string {
  const at = resolve(root, `.${mount.startsWith('/') ? '' : '/'}${mount}`);
  if (!mount.startsWith('/') || !inside(root, at)) {
    throw new ForgeError('PLAN_INVALID', `mount point ${displayValue(mount)} leaves the target root`, {
      field: 'fss.mount',
      details: { mount, root },
    });
  }
  return at;
}

/** After mkdir: the real path (symlinks resolved) must still be inside the real root. */
export async function assertInsideTarget(root: string, at: string, mount: string): Promise<void> {
  const [realRoot, realAt] = await Promise.all([realpath(root), realpath(at)]);
  if (!inside(realRoot, realAt)) {
    throw new ForgeError('MOUNT_FAILED', `mount point ${displayValue(mount)} resolves to ${realAt}, outside the target (a symlink in the image?)`, {
      field: 'fss.mount',
      details: { mount, resolved: realAt },
    });
  }
}

/**
 * The target's files a chroot command named `tool` could find through CHROOT_ENV's
 * PATH, as paths relative to the target with links resolved, each once (a merged /usr
 * gives /bin/x and /usr/bin/x as one file). A link that leaves the target is left alone.
 */
export async function targetToolFiles(root: string, tool: string): Promise<string[]> {
  const realRoot = await realpath(root);
  const found = new Set<string>();
  for (const dir of CHROOT_ENV.PATH!.split(':')) {
    const real = await realpath(join(root, dir, tool)).catch(() => undefined);
    if (!real) continue;
    if (inside(realRoot, real) && (await lstat(real)).isFile()) found.add(relative(realRoot, real));
  }
  return [...found].sort();
}
