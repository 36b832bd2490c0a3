// vitest globalSetup of the vm project: starts ci/prebuild.ts in the background when a
// run includes VM files (vitest runs a project's global setup only then, before any
// tier's tests start). `nice` keeps the unit and system tiers' tests ahead of it on the
// CPU. The teardown reports how the builds went; a failed build is also reported by
// the tests that needed it, which retry it themselves. FORGE_PREBUILD=0 turns it off.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecaRunner } from '../agent/core/runner.js';
import { forgeCacheDir } from '../agent/host/build/cache-dir.js';
import { ensureDocker } from '../lab/master/docker-daemon.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The prebuild's argv: below normal CPU priority, through the repo's own tsx. */
export function prebuildArgv(root = repo): string[] {
  return ['nice', '-n', '10', join(root, 'node_modules/.bin/tsx'), join(root, 'ci/prebuild.ts')];
}

export default async function setup(): Promise<() => Promise<void>> {
  // The builds need root (debootstrap, chroot); without it the VM tier cannot run anyway.
  if (process.env['FORGE_PREBUILD'] === '0' || process.getuid?.() !== 0) return async () => undefined;
  const runner = new ExecaRunner();
  // The lab's dockerd from here, at normal priority: started by the prebuild it would inherit
  // its nice level, and so would every lab container. A failure is the lab tests' to report.
  await ensureDocker(runner, { cacheDir: forgeCacheDir() }).catch(() => undefined);
  const said: string[] = [];
  const child = runner.start(prebuildArgv(), { cwd: repo, group: true, onStdoutLine: (l) => said.push(l) });
  return async () => {
    // Every VM file has asked for what it needs by now: anything still building is not needed.
    const timer = setTimeout(() => child.kill('SIGTERM'), 1000);
    const exit = await child.exited;
    clearTimeout(timer);
    process.stdout.write(`${said.join('\n')}\n`);
    if (exit.exitCode !== 0 && !exit.signal) process.stderr.write(`ci/prebuild.ts exited ${exit.exitCode}: ${child.stderrTail()}\n`);
  };
}
