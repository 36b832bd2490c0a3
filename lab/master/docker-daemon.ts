// Makes sure a Docker daemon answers before the lab's master containers start.
// CI machines start with none, and no registry is reachable, so the daemon runs
// with vfs storage (works on any filesystem) and without touching iptables. It
// is started detached and left running: later tests and lab runs reuse it.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireBuildLock } from '../../agent/host/build/build-lock.js';
import { realClock } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import { tail, type Runner } from '../../agent/core/runner.js';
import { dockerProbe, infoArgv } from './docker-cli.js';

export const DOCKERD = '/usr/sbin/dockerd';
// --ip-forward=false: dockerd would otherwise switch on routing host-wide; the lab
// needs none (guests and containers reach the host on the bridge, nothing beyond).
export const DOCKERD_ARGS = ['--iptables=false', '--ip-forward=false', '--storage-driver=vfs'] as const;

export interface DockerDaemonOptions {
  /** Where dockerd's log and the start lock go: `<cacheDir>/master/`. */
  cacheDir: string;
  /** How long to wait for `docker info` after starting dockerd. Default 60 s. */
  timeoutMs?: number;
}

export interface DockerDaemon {
  serverVersion: string;
  /** True when this call started dockerd. */
  started: boolean;
  /** dockerd's stdout+stderr when this lab started it. */
  logFile: string;
}

/**
 * start-stop-daemon forks, detaches (own session) and redirects dockerd's output
 * to the log file, then exits: the runner sees a short command, and `--exec`
 * makes it a no-op when a dockerd already runs (another process starting it).
 */
export function startDockerdArgv(logFile: string): string[] {
  return ['start-stop-daemon', '--start', '--oknodo', '--background', '--output', logFile,
    '--exec', DOCKERD, '--', ...DOCKERD_ARGS];
}

async function serverVersion(runner: Runner): Promise<string | undefined> {
  const out = await dockerProbe(runner, infoArgv(), 15_000);
  const v = out?.trim();
  // Without a daemon, `docker info --format` may still exit 0 on some clients and print nothing.
  return v ? v : undefined;
}

export async function ensureDocker(runner: Runner, o: DockerDaemonOptions): Promise<DockerDaemon> {
  const dir = join(o.cacheDir, 'master');
  const logFile = join(dir, 'dockerd.log');
  const up = await serverVersion(runner);
  if (up) return { serverVersion: up, started: false, logFile };
  await mkdir(dir, { recursive: true });
  // One starter at a time; a second process finds the daemon up once it gets the lock.
  await using _lock = await acquireBuildLock(join(dir, 'dockerd.lock'), realClock, { timeoutMs: 5 * 60_000, pollMs: 500 });
  const again = await serverVersion(runner);
  if (again) return { serverVersion: again, started: false, logFile };
  await runner.run(startDockerdArgv(logFile), { timeoutMs: 30_000 });
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  for (;;) {
    const v = await serverVersion(runner);
    if (v) return { serverVersion: v, started: true, logFile };
    if (Date.now() > deadline) {
      const log = tail(await readFile(logFile, 'utf8').catch(() => '(no log)'), 2000);
      throw new ForgeError('LAB_FAILED', `dockerd did not answer within ${o.timeoutMs ?? 60_000} ms; ${logFile} ends with:\n${log}`, {
        command: startDockerdArgv(logFile),
        details: { logFile, logTail: log },
      });
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
