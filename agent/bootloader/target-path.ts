// Where a planned mount point lands under the mounted target. A mount point is
// data; `join(root, "/../../etc")` is the ramdisk's own /etc, and a symlink in
// the image (`srv -> /etc`) followed from outside the chroot is too. Both are
// refused before anything is mounted there.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ForgeError } from '../core/errors.js';
import { displayValue } from '../core/display.js';

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
