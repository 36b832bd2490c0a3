// `lab down`'s hands: ends live lab owners (SIGTERM, then SIGKILL after a grace
// period) and removes leftovers — what a dead owner would have released. The
// master-network and guard sweeps of lab/master/ (stale.ts, guard.ts) go first;
// whatever they do not cover (QEMU and radvd of killed runs, orphan links and rules, temp
// directories, state files) is removed here, one resource at a time.
import { readFileSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { processAlive } from '../agent/host/build/build-lock.js';
import type { Runner } from '../agent/core/runner.js';
import { removeKeptLab } from './kept-lab.js';
import { rmForceArgv } from './master/docker-cli.js';
import { sweepStaleGuards } from './master/guard.js';
import { deleteLink } from './master/ip-link.js';
import { bridgeAcceptArgv } from './master/iptables.js';
import { removeNetwork } from './master/network.js';
import { RADVD_DIR_PREFIX } from './master/router-adverts.js';
import { sweepStaleMasterNetworks } from './master/stale.js';
import type { LabResource, ResourceKind } from './resources.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Gone, or a zombie nobody reaped yet (kill(pid, 0) still succeeds on those). */
export function processGone(pid: number): boolean {
  if (!processAlive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!processGone(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
  return true;
}

const signal = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
};

/**
 * SIGTERM, so the owner disposes its lab as after Ctrl-C; SIGKILL when it has not
 * exited after `timeoutMs` (what it held is then a leftover). Returns how it ended.
 */
export async function stopOwner(pid: number, timeoutMs: number): Promise<'exited' | 'killed'> {
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, timeoutMs)) return 'exited';
  signal(pid, 'SIGKILL');
  await waitGone(pid, 10_000);
  return 'killed';
}

/** Removal order: processes holding taps first, state files last. */
const ORDER: ResourceKind[] = ['qemu', 'radvd', 'container', 'network', 'link', 'guard-rule', 'forward-rule', 'dir', 'kept-lab'];

async function removeOne(runner: Runner, r: LabResource): Promise<void> {
  switch (r.kind) {
    case 'qemu': {
      // Its own process group (lab/vm/qemu.ts): whatever it forked goes too.
      const pid = Number(r.id);
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
      await waitGone(pid, 10_000);
      return;
    }
    case 'radvd': {
      // Started in its own process group (lab/master/router-adverts.ts), with its privsep child.
      const pid = Number(r.id);
      signal(-pid, 'SIGTERM');
      signal(pid, 'SIGTERM');
      if (!(await waitGone(pid, 5_000))) signal(-pid, 'SIGKILL');
      const conf = /^config (\S+)$/.exec(r.detail)?.[1];
      if (conf && basename(dirname(conf)).startsWith(RADVD_DIR_PREFIX)) rmSync(dirname(conf), { recursive: true, force: true });
      return;
    }
    case 'container':
      await runner.run(rmForceArgv([r.id]), { timeoutMs: 60_000 });
      return;
    case 'network':
      await removeNetwork(runner, r.id);
      return;
    case 'link':
      await deleteLink(runner, r.id);
      return;
    case 'guard-rule':
      await sweepStaleGuards(runner);
      return;
    case 'forward-rule':
      await runner.run(bridgeAcceptArgv('-D', r.id), { timeoutMs: 15_000 });
      return;
    case 'dir':
      rmSync(r.id, { recursive: true, force: true });
      return;
    case 'kept-lab':
      removeKeptLab(r.id);
      return;
    case 'dockerd':
      return;
  }
}

export interface SweepReport {
  removed: string[];
  failed: string[];
}

/**
 * Removes every leftover: killed runs' QEMU first (they hold taps), then dead
 * owners' master networks through stale.ts (containers, taps, network) and
 * guard rules through guard.ts, then — looked up again — whatever is still a
 * leftover, one at a time. Running, kept and unknown resources are never touched.
 */
export async function removeLeftovers(runner: Runner, discover: () => Promise<LabResource[]>): Promise<SweepReport> {
  const report: SweepReport = { removed: [], failed: [] };
  const attempt = async (r: LabResource): Promise<void> => {
    try {
      await removeOne(runner, r);
      report.removed.push(`${r.kind} ${r.id} (${r.detail})`);
    } catch (e) {
      report.failed.push(`${r.kind} ${r.id}: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  };
  const leftovers = async (): Promise<LabResource[]> => (await discover()).filter((r) => r.state === 'leftover');
  const first = await leftovers();
  for (const r of first.filter((x) => x.kind === 'qemu')) await attempt(r);
  if (first.some((r) => r.kind === 'network')) {
    try {
      for (const name of await sweepStaleMasterNetworks(runner)) report.removed.push(`network ${name} with its containers and taps`);
    } catch (e) {
      report.failed.push(`master networks: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  if (first.some((r) => r.kind === 'guard-rule')) {
    const n = await sweepStaleGuards(runner).catch((e: unknown) => {
      report.failed.push(`guard rules: ${(e as Error).message.split('\n')[0] ?? ''}`);
      return 0;
    });
    if (n) report.removed.push(`${n} guard rule(s) of dead owners`);
  }
  const rest = await leftovers();
  for (const kind of ORDER) for (const r of rest.filter((x) => x.kind === kind)) await attempt(r);
  return report;
}
