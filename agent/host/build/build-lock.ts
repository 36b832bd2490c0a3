// A cross-process lock file for slow builds: two test files (or two engineers'
// processes) asking for the same image at once must build it once. The lock
// holds the owner's pid; a lock whose owner is gone is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';

/** True while a process with this pid exists (EPERM: it exists but is someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface BuildLock extends AsyncDisposable {
  release(): Promise<void>;
}

export async function acquireBuildLock(
  path: string,
  clock: Clock,
  opts: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
): Promise<BuildLock> {
  const deadline = clock.now() + (opts.timeoutMs ?? 90 * 60_000);
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      const release = async (): Promise<void> => {
        await rm(path, { force: true });
      };
      return { release, [Symbol.asyncDispose]: release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // An empty file is a lock being written right now; only a dead owner is stale.
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (clock.now() > deadline) {
      throw new ForgeError('BUILD_FAILED', `timed out waiting for build lock ${path} (held by pid ${owner})`, {
        details: { lock: path, owner },
      });
    }
    await clock.sleep(opts.pollMs ?? 2000, opts.signal);
  }
}
