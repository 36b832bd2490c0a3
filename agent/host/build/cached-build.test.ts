import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCtx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import { cachedBuild, type CachedBuildSpec } from './cached-build.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'forge-cached-build-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ctx = () => createCtx({ log: silentLogger });

function spec(over: Partial<CachedBuildSpec<string>> = {}): CachedBuildSpec<string> & { builds: number } {
  const out = join(dir, 'out');
  const s = {
    builds: 0,
    what: 'test build',
    lock: join(dir, 'out.lock'),
    work: join(dir, 'out.partial'),
    into: out,
    cached: async () => (existsSync(join(out, 'done')) ? readFileSync(join(out, 'done'), 'utf8') : undefined),
    build: async (work: string) => {
      s.builds++;
      await writeFile(join(work, 'done'), 'v1');
    },
    ...over,
  };
  return s;
}

describe('cachedBuild', () => {
  it('builds into the work dir, moves it into place, then serves the cache', async () => {
    const s = spec();
    expect(await cachedBuild(ctx(), s)).toEqual({ value: 'v1', cached: false });
    expect(existsSync(s.work)).toBe(false);
    expect(existsSync(s.lock)).toBe(false);
    expect(await cachedBuild(ctx(), s)).toEqual({ value: 'v1', cached: true });
    expect(s.builds).toBe(1);
    expect(await cachedBuild(ctx(), { ...s, force: true })).toEqual({ value: 'v1', cached: false });
  });

  it('turns a foreign failure into BUILD_FAILED, keeps ForgeErrors, and leaves no work dir or output', async () => {
    const boom = spec({ build: async () => Promise.reject(new Error('disk full')) });
    await expect(cachedBuild(ctx(), boom)).rejects.toMatchObject({ code: 'BUILD_FAILED', message: 'test build failed: disk full' });
    const own = spec({ build: async () => Promise.reject(new ForgeError('TOOL_FAILED', 'debootstrap exited 1')) });
    await expect(cachedBuild(ctx(), own)).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(existsSync(boom.work)).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('fails when the build leaves nothing the cache can read', async () => {
    const s = spec({ build: async () => undefined });
    await expect(cachedBuild(ctx(), s)).rejects.toMatchObject({ code: 'BUILD_FAILED', message: /test build finished but its output is not in the cache/ });
  });

  it('rechecks the cache once it holds the lock', async () => {
    const s = spec();
    let reads = 0;
    // Another process finishes the build between our first look and the lock.
    const racing = { ...s, cached: async () => (++reads === 1 ? undefined : 'theirs') };
    expect(await cachedBuild(ctx(), racing)).toEqual({ value: 'theirs', cached: true });
    expect(s.builds).toBe(0);
  });
});
