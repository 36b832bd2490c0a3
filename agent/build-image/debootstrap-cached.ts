// debootstrap through the machine's shared .deb cache (<cache>/debs/<suite>): the
// OS image, the bootstrap ramdisk and the lab's master image download each package
// once. Runs sharing the cache are serialized by a lock beside it, since two
// debootstraps fetching the same .deb at once corrupt it.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ctx } from '../core/context.js';
import { debootstrap, type DebootstrapOptions } from '../tools/debootstrap.js';
import { acquireBuildLock } from './build-lock.js';

export async function debootstrapCached(ctx: Ctx, cacheDir: string, o: Omit<DebootstrapOptions, 'cacheDir'>): Promise<void> {
  const debCache = join(cacheDir, 'debs', o.suite);
  await mkdir(debCache, { recursive: true });
  await using _debs = await acquireBuildLock(`${debCache}.lock`, ctx.clock, { signal: ctx.signal });
  await debootstrap(ctx, { ...o, cacheDir: debCache });
}
