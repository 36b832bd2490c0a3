// Leftovers of fleet runs that were killed before their clean-up ran (SIGKILL, a
// crash): node processes, namespaces, the bridge, loop disks and scratch
// directories whose owner (fleet-owner.ts) is gone. Live runs' things are left alone.
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import type { Runner } from '../../agent/core/runner.js';
import { teardownDevice } from '../../agent/testing/loop-disks.js';
import { linkDelArgv } from '../master/ip-link.js';
import { loopFileOwner } from './fleet-disks.js';
import { bridgeOwner, nsOwner } from './fleet-net.js';
import { processAlive } from '../../agent/host/build/build-lock.js';
import { tagPid } from './fleet-owner.js';

/** The fleet's scratch directories in the temp dir: forge-fleet-<tag>-XXXXXX. */
export const WORK_PREFIX = 'forge-fleet-';
const workOwner = (name: string): string | undefined => new RegExp(`^${WORK_PREFIX}([0-9a-z]+)-`).exec(name)?.[1];

const T = { timeoutMs: 15_000 };
const loopList = z.object({ loopdevices: z.array(z.object({ name: z.string(), 'back-file': z.string().nullable() })) });
const dead = (tag: string | undefined): tag is string => tag !== undefined && !processAlive(tagPid(tag));

export async function sweepStaleFleets(runner: Runner): Promise<string[]> {
  const swept: string[] = [];
  const nsList = (await runner.run(['ip', 'netns', 'list'], { ...T, readOnly: true })).stdout;
  for (const line of nsList.split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    if (!dead(nsOwner(name))) continue;
    // A node agent outlives its owner only if the owner was SIGKILLed between start and kill-on-exit.
    const pids = (await runner.run(['ip', 'netns', 'pids', name], { ...T, readOnly: true })).stdout.split('\n').map(Number).filter((p) => p > 0);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await runner.run(['ip', 'netns', 'del', name], T);
    swept.push(name);
  }
  const links = (await runner.run(['ip', '-o', 'link', 'show', 'type', 'bridge'], { ...T, readOnly: true })).stdout;
  for (const line of links.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '';
    if (!dead(bridgeOwner(name))) continue;
    await runner.run(linkDelArgv(name), T);
    swept.push(name);
  }
  const argv = ['losetup', '--list', '--json', '-O', 'NAME,BACK-FILE'];
  const text = (await runner.run(argv, { ...T, readOnly: true })).stdout.trim();
  for (const l of text ? parseJsonAs(loopList, text, { command: argv }).loopdevices : []) {
    const file = (l['back-file'] ?? '').replace(/ \(deleted\)$/, '');
    if (!dead(loopFileOwner(file))) continue;
    await teardownDevice(l.name, runner);
    rmSync(dirname(file), { recursive: true, force: true });
    swept.push(l.name);
  }
  for (const name of readdirSync(tmpdir())) {
    if (!dead(workOwner(name))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    swept.push(name);
  }
  return swept;
}
