// mount/umount argv lives here only. A MountStack remembers what it mounted and
// unmounts in reverse order on dispose (a CleanupStack), even after a failure half-way through.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../core/cleanup.js';
import type { Ctx } from '../core/context.js';

/** One line of /proc/self/mounts (or /proc/mounts), the mount point's spaces unescaped. */
export interface ProcMount {
  source: string;
  target: string;
  options: string[];
}

/** /proc/self/mounts' text → its entries, in order (a later entry for the same point is the mount on top). */
export function parseProcMounts(text: string): ProcMount[] {
  return text.split('\n').flatMap((line) => {
    const [source, target, , options] = line.split(' ');
    return source && target ? [{ source, target: target.replace(/\\040/g, ' '), options: options ? options.split(',') : [] }] : [];
  });
}

export interface MountOptions {
  type?: string;
  options?: string[];
  bind?: boolean;
  readOnly?: boolean;
}

export function mountArgv(source: string, target: string, o: MountOptions = {}): string[] {
  const argv = ['mount'];
  if (o.bind) argv.push('--bind');
  if (o.type) argv.push('-t', o.type);
  const opts = [...(o.readOnly ? ['ro'] : []), ...(o.options ?? [])];
  if (opts.length) argv.push('-o', opts.join(','));
  argv.push(source, target);
  return argv;
}

export class MountStack implements AsyncDisposable {
  readonly #ctx: Ctx;
  readonly #stack = new CleanupStack();
  readonly #mounted: string[] = [];

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  get mounted(): readonly string[] {
    return this.#mounted;
  }

  async mount(source: string, target: string, o: MountOptions = {}): Promise<void> {
    await this.#ctx.run(mountArgv(source, target, o), { timeoutMs: 120_000 });
    this.#mounted.push(target);
    this.#stack.defer(`umount ${target}`, () => this.#umount(target));
  }

  /** A fresh directory under `parent` (the temp dir by default), removed on dispose. */
  async tempDir(prefix = 'forge-mnt-', parent = tmpdir()): Promise<string> {
    const dir = await mkdtemp(join(parent, prefix));
    this.#stack.defer(`remove ${dir}`, async () => {
      // A mount that could not be detached still sits below: rm -r would erase the filesystem.
      if (this.#mounted.some((m) => m === dir || m.startsWith(dir + '/'))) return;
      await rm(dir, { recursive: true, force: true });
    });
    return dir;
  }

  async #umount(target: string): Promise<void> {
    // No signal here: a cancelled run must still unmount what it mounted.
    try {
      await this.#ctx.runner.run(['umount', target], { timeoutMs: 120_000 });
    } catch (e) {
      // A busy mount must still not leak: detach it lazily, and report the failure.
      const lazy = await this.#ctx.runner.run(['umount', '--lazy', target], { okExitCodes: [0, 32] }).catch(() => undefined);
      if (lazy?.exitCode === 0) this.#forget(target);
      throw e;
    }
    this.#forget(target);
  }

  #forget(target: string): void {
    const i = this.#mounted.lastIndexOf(target);
    if (i >= 0) this.#mounted.splice(i, 1);
  }

  /** Unmount everything, deepest first, and remove the temp dirs. Keeps going past failures and reports them all. */
  async dispose(): Promise<void> {
    await this.#stack.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
