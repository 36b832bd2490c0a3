import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingRunner } from '../agent/core/runner.js';
import { ownersToStop } from './commands/down.js';
import { RADVD_DIR_PREFIX } from './master/router-adverts.js';
import { pollUntil } from './vm/wait.js';
import type { LabResource } from './resources.js';
import { processGone, removeLeftovers } from './sweep-leftovers.js';

describe('removeLeftovers', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('removes only leftovers, processes and containers before links, rules, directories and state files', async () => {
    const base = mkdtempSync(join(tmpdir(), 'forge-sweep-test-'));
    dirs.push(base);
    const vmDir = join(base, 'forge-vm-x-1');
    mkdirSync(vmDir);
    const keptDir = join(base, 'forge-lab-kept');
    mkdirSync(keptDir);
    const stateFile = join(base, '2000.json');
    writeFileSync(stateFile, '{}');
    const found: LabResource[] = [
      { kind: 'kept-lab', id: stateFile, owner: 2000, state: 'leftover', detail: '' },
      { kind: 'dir', id: vmDir, owner: 2000, state: 'leftover', detail: '' },
      { kind: 'dir', id: keptDir, owner: 2000, state: 'kept', detail: '' },
      { kind: 'forward-rule', id: 'fmbr97x2', state: 'leftover', detail: '' },
      { kind: 'link', id: 'fmbr97x2', state: 'leftover', detail: '' },
      { kind: 'link', id: 'fmt1-0', state: 'running', detail: '' },
      { kind: 'container', id: 'c2', owner: 2000, state: 'leftover', detail: '' },
      { kind: 'container', id: 'c1', owner: 1000, state: 'running', detail: '' },
      { kind: 'network', id: 'net-x', state: 'unknown', detail: '' },
    ];
    const runner = new RecordingRunner();
    const report = await removeLeftovers(runner, async () => found);
    expect(runner.planned.map((a) => a.join(' '))).toEqual([
      'docker rm --force --volumes c2',
      'ip link del dev fmbr97x2',
      'iptables -D FORWARD -i fmbr97x2 -o fmbr97x2 -j ACCEPT',
    ]);
    // deleteLink looks first (read-only), so the link list above holds only what was deleted.
    expect(runner.calls.some((a) => a.includes('fmt1-0') || a.includes('c1') || a.includes('net-x'))).toBe(false);
    expect(existsSync(vmDir)).toBe(false);
    expect(existsSync(keptDir)).toBe(true);
    expect(existsSync(stateFile)).toBe(false);
    expect(report.failed).toEqual([]);
    expect(report.removed).toHaveLength(5);
  });
});

describe('removeLeftovers: a leftover radvd', () => {
  /** A stand-in for radvd and its privsep child: a process-group leader and the child's pid, as the lab starts radvd. */
  const spawnGroup = async (): Promise<{ leader: number; child: number }> => {
    const p = spawn('sh', ['-c', 'sleep 600 & echo $!; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    const child = await new Promise<number>((resolve) => p.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    return { leader: p.pid as number, child };
  };

  it('stops its whole process group and removes its config directory; a config outside the lab\'s directories stays', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'forge-sweep-radvd-'));
    const own = join(tmp, `${RADVD_DIR_PREFIX}fmbr97x9-Ab12`);
    const foreign = join(tmp, 'elsewhere');
    for (const d of [own, foreign]) mkdirSync(d);
    const a = await spawnGroup();
    const b = await spawnGroup();
    const pids = [a.leader, a.child, b.leader, b.child];
    try {
      const found: LabResource[] = [
        { kind: 'radvd', id: String(a.leader), state: 'leftover', detail: `config ${join(own, 'radvd.conf')}` },
        { kind: 'radvd', id: String(b.leader), state: 'leftover', detail: `config ${join(foreign, 'radvd.conf')}` },
      ];
      expect(pids.filter(processGone)).toEqual([]);
      const report = await removeLeftovers(new RecordingRunner(), async () => found);
      expect(report.failed).toEqual([]);
      // Leaders and their children: the signal went to the group.
      await pollUntil('the groups gone', async () => (pids.every(processGone) ? true : undefined), { timeoutMs: 5000, pollMs: 50 }).catch(() => undefined);
      expect(pids.filter((p) => !processGone(p))).toEqual([]);
      expect([existsSync(own), existsSync(foreign)]).toEqual([false, true]);
    } finally {
      for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('ownersToStop', () => {
  const found: LabResource[] = [
    { kind: 'kept-lab', id: '/run/x/11.json', owner: 11, state: 'running', detail: '' },
    { kind: 'kept-lab', id: '/run/x/12.json', owner: 12, state: 'leftover', detail: '' },
    { kind: 'network', id: 'n', owner: 13, state: 'running', detail: '' },
    { kind: 'container', id: 'c', owner: 13, state: 'running', detail: '' },
    { kind: 'qemu', id: '99', owner: process.pid, state: 'running', detail: '' },
  ];
  it("ends kept labs' owners; --all also other live owners, never this process", () => {
    expect(ownersToStop(found, false)).toEqual([11]);
    expect(ownersToStop(found, true)).toEqual([11, 13]);
  });
});
