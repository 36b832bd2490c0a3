// Shared, cached access to the slow build outputs for tests and the lab: one
// build per machine (the cache), one per process (memoized promise), and safe
// when several processes ask at once (the builders take lock files).
import { buildBootstrap, type BuiltBootstrap } from './ramdisk/build.js';
import { createCtx, type Ctx } from '../core/context.js';
import { createLogger, stderrSink } from '../core/log.js';
import { buildImage, type BuildImageOptions, type BuiltImage } from './image/build-image.js';

const memo = new Map<string, Promise<unknown>>();

function once<T>(key: string, make: () => Promise<T>): Promise<T> {
  let p = memo.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    // A failed build is retried by the next caller instead of being cached.
    p.catch(() => memo.delete(key));
    memo.set(key, p);
  }
  return p;
}

function buildCtx(): Ctx {
  return createCtx({ log: createLogger([stderrSink]) });
}

/** The `tiny` test image (debian bookworm, gzip): bootloader and whole-run tests use it. */
export function ensureTinyImage(ctx: Ctx = buildCtx(), o: Omit<BuildImageOptions, 'profile'> = {}): Promise<BuiltImage> {
  // VM hardware: its users are loop devices and QEMU guests, and every one of them writes it whole.
  return once(`image:tiny:${JSON.stringify(o)}`, () => buildImage(ctx, { hardware: 'vm', ...o, profile: 'tiny' }));
}

/**
 * The `deploy` image (tiny + mcollective, puppet, rsync): the lab's nodes, ready for
 * deployment. Built for VM hardware unless told otherwise: lab nodes are QEMU machines.
 * zstd unless told otherwise: a lab node's "link" (a bridge) is faster than its gunzip under
 * TCG — 256 MB of this image inflated in 10–11 s with gzip, 3–4 s with zstd, on a lab node
 * (the README's container advice). The mismatch image and the tiny one keep gzip in VMs.
 */
export function ensureDeployImage(ctx: Ctx = buildCtx(), o: Omit<BuildImageOptions, 'profile'> = {}): Promise<BuiltImage> {
  return once(`image:deploy:${JSON.stringify(o)}`, () => buildImage(ctx, { hardware: 'vm', compression: 'zstd', ...o, profile: 'deploy' }));
}

/** vmlinuz + initrd.img of the bootstrap ramdisk with the current agent bundled in. */
export function ensureBootstrap(ctx: Ctx = buildCtx(), cacheDir?: string): Promise<BuiltBootstrap> {
  return once(`bootstrap:${cacheDir ?? ''}`, () => buildBootstrap(ctx, cacheDir === undefined ? {} : { cacheDir }));
}
