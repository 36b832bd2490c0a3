// tar argv for the master image: packs a root directory as the tarball `docker
// import` takes. Numeric owners so the image does not depend on the host's users.
import type { Runner } from '../../agent/core/runner.js';

export function tarCreateArgv(root: string, archive: string): string[] {
  return ['tar', '--create', '--numeric-owner', '--xattrs', `--file=${archive}`, `--directory=${root}`, '.'];
}

export async function tarCreate(runner: Runner, root: string, archive: string): Promise<void> {
  await runner.run(tarCreateArgv(root, archive), { timeoutMs: 20 * 60_000 });
}
