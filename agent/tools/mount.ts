// mount/umount argv lives here only. A MountStack remembers what it mounted and
// unmounts in reverse order on dispose, even after a failure half-way through.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../core/context.js';

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
  readonly #mounted: string[] = [];
  readonly #tempDirs: string[] = [];

  constructor(ctx: Ctx) {
    this.#ctx = ctx;
  }

  get mounted(): readonly string[] {
    return this.#mounted;
  }

  async mount(source: string, target: string, o: MountOptions = {}): Promise<void> {
    await this.#ctx.runner.run(mountArgv(source, target, o), { timeoutMs: 120_000 });
    this.#mounted.push(target);
  }

  /** A fresh directory under the temp dir, removed on dispose. */
  async tempDir(prefix = 'forge-mnt-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#tempDirs.push(dir);
    return dir;
  }

  /** Unmount everything, deepest first. Keeps going past failures and reports the first. */
  async dispose(): Promise<void> {
    let first: unknown;
    while (this.#mounted.length) {
      const target = this.#mounted.pop() as string;
      try {
        await this.#ctx.runner.run(['umount', target], { timeoutMs: 120_000 });
      } catch (e) {
        // A busy mount must still not leak: detach it lazily and report.
        await this.#ctx.runner.run(['umount', '--lazy', target], { okExitCodes: [0, 32] }).catch(() => undefined);
        first ??= e;
      }
    }
    for (const d of this.#tempDirs.splice(0)) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    if (first) throw first;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
