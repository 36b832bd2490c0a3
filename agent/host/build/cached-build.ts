// The one sequence every cached build on the host follows (OS image, ramdisk
// root, ramdisk overlay, the lab's master image): read the cache → take the
// key's lock → read again (another process may have built it while we waited)
// → build into an empty `.partial` work directory → move the result into place
// → read it back the way a cache hit would. Failures are ForgeErrors; anything
// else becomes BUILD_FAILED naming the build. The work directory never outlives
// the call.
import { mkdir, rename, rm } from 'node:fs/promises';
import type { Ctx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { acquireBuildLock } from './build-lock.js';

export interface CachedBuildSpec<T> {
  /** Names the build in errors: "image build" → `image build failed: …`. */
  what: string;
  /** Lock file of this key: one build per key at a time, across processes. */
  lock: string;
  /** Scratch directory (`….partial`): emptied before the build, removed after it. */
  work: string;
  /** Moves the finished `work` directory here (replacing what was there). Without it, `build` publishes its own outputs. */
  into?: string;
  /** Build even when the cache holds a result. */
  force?: boolean | undefined;
  /** The cached result, or undefined when there is none (read before and after taking the lock, and after the build). */
  cached(): Promise<T | undefined>;
  /** Builds into `work`. */
  build(work: string): Promise<void>;
}

export interface CachedBuildResult<T> {
  value: T;
  /** True when the cache had it and nothing was built. */
  cached: boolean;
}

/** Any failure as a ForgeError: ForgeErrors pass unchanged, anything else is BUILD_FAILED. */
export function buildFailed(what: string, e: unknown): ForgeError {
  if (e instanceof ForgeError) return e;
  return new ForgeError('BUILD_FAILED', `${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export async function cachedBuild<T>(ctx: Ctx, spec: CachedBuildSpec<T>): Promise<CachedBuildResult<T>> {
  const hit = async (): Promise<T | undefined> => (spec.force ? undefined : spec.cached());
  const before = await hit();
  if (before !== undefined) return { value: before, cached: true };
  await using _lock = await acquireBuildLock(spec.lock, ctx.clock, { signal: ctx.signal });
  const after = await hit();
  if (after !== undefined) return { value: after, cached: true };

  try {
    await rm(spec.work, { recursive: true, force: true });
    await mkdir(spec.work, { recursive: true });
    await spec.build(spec.work);
    if (spec.into !== undefined) {
      await rm(spec.into, { recursive: true, force: true });
      await rename(spec.work, spec.into);
    }
  } catch (e) {
    throw buildFailed(spec.what, e);
  } finally {
    await rm(spec.work, { recursive: true, force: true }).catch(() => undefined);
  }
  const built = await spec.cached().catch((e: unknown) => {
    throw buildFailed(spec.what, e);
  });
  if (built === undefined) throw new ForgeError('BUILD_FAILED', `${spec.what} finished but its output is not in the cache`, { details: { lock: spec.lock } });
  return { value: built, cached: false };
}
