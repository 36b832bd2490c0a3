// debootstrap through the machine's shared .deb cache (<cache>/debs/<suite>): the
// OS image, the bootstrap ramdisk and the lab's master image download each package
// once. Runs sharing the cache are serialized by a lock beside it, since two
// debootstraps fetching the same .deb at once corrupt it.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../../core/context.js';
import { debootstrap, type DebootstrapOptions } from '../../tools/debootstrap.js';
import { acquireBuildLock } from './build-lock.js';

/** What every build here bootstraps: a suite from a mirror with extra packages, Debian's main component. */
export interface BootstrapInputs {
  suite: string;
  mirror: string;
  packages: readonly string[];
  variant?: DebootstrapOptions['variant'];
}

export async function debootstrapCached(ctx: Ctx, cacheDir: string, target: string, i: BootstrapInputs): Promise<void> {
  const debCache = join(cacheDir, 'debs', i.suite);
  await mkdir(debCache, { recursive: true });
  await using _debs = await acquireBuildLock(`${debCache}.lock`, ctx.clock, { signal: ctx.signal });
  await debootstrap(ctx, {
    suite: i.suite,
    target,
    mirror: i.mirror,
    ...(i.variant ? { variant: i.variant } : {}),
    include: i.packages,
    components: ['main'],
    cacheDir: debCache,
  });
}
