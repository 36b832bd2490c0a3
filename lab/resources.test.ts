import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingRunner } from '../agent/core/runner.js';
import { writeKeptLab } from './kept-lab.js';
import { DOCKERD, DOCKERD_ARGS } from './master/docker-daemon.js';
import { writeOwnerMark } from './owner-mark.js';
import {
  discoverLabResources, formatResources, isLabDockerd, labContainersArgv, parseCmdline, parseForwardAccepts, parseLabContainers,
  parseLabNetworks, parseLinks, parsePpid, vmDirOfArgv,
} from './resources.js';
import { QEMU_BIN } from './vm/qemu.js';
import { radvdArgv } from './master/router-adverts.js';

describe('parsers', () => {
  it('reads lab containers from docker ps, owner pid optional', () => {
    const out = 'abc123\tforge-master-77-0-dnsmasq\tforge-master-77-0\t77\texited\ndef456\tlegacy\tforge-master-5-0\t\trunning\n\n';
    expect(parseLabContainers(out)).toEqual([
      { id: 'abc123', name: 'forge-master-77-0-dnsmasq', network: 'forge-master-77-0', owner: 77, status: 'exited' },
      { id: 'def456', name: 'legacy', network: 'forge-master-5-0', status: 'running' },
    ]);
    expect(labContainersArgv()).toContain('label=fuel-forge.lab');
  });

  it('reads networks with their owner pid', () => {
    expect(parseLabNetworks('forge-master-77-0 77\nold-net \n')).toEqual([{ name: 'forge-master-77-0', owner: 77 }, { name: 'old-net' }]);
  });

  it('reads link names and their bridge from ip -o link (veth suffixes dropped)', () => {
    const out = [
      '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00',
      '9: fmbr97x5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:aa',
      '10: fmt5-0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel master fmbr97x5 state UP mode DEFAULT group default qlen 1000',
      '11: veth1a2b@if10: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master fmbr97x5 state UP mode DEFAULT',
    ].join('\n');
    expect(parseLinks(out)).toEqual([
      { name: 'lo' }, { name: 'fmbr97x5' }, { name: 'fmt5-0', master: 'fmbr97x5' }, { name: 'veth1a2b', master: 'fmbr97x5' },
    ]);
  });

  it('finds the FORWARD accept rules of lab bridges only', () => {
    const listing = '-P FORWARD DROP\n-A FORWARD -i fmbr97x5 -o fmbr97x5 -j ACCEPT\n-A FORWARD -i docker0 -o docker0 -j ACCEPT\n-A FORWARD -i fmbr97x5 ! -o fmbr97x5 -j DROP\n';
    expect(parseForwardAccepts(listing)).toEqual(['fmbr97x5']);
  });

  it("finds a forge VM's directory from its QMP socket; other programs have none", () => {
    const argv = parseCmdline(`/usr/bin/${QEMU_BIN}\0-name\0n1\0-qmp\0unix:/tmp/forge-vm-n1-x/qmp.sock,server=on,wait=off\0-qmp\0unix:/tmp/forge-vm-n1-x/control.sock,server=on,wait=off\0`);
    expect(argv.at(-1)).toBe('unix:/tmp/forge-vm-n1-x/control.sock,server=on,wait=off');
    expect(vmDirOfArgv(argv)).toBe('/tmp/forge-vm-n1-x');
    expect(vmDirOfArgv([QEMU_BIN, '-m', '256'])).toBeUndefined();
    expect(vmDirOfArgv(['/usr/bin/socat', '-qmp', 'unix:/tmp/forge-vm-a/qmp.sock'])).toBeUndefined();
  });

  it("recognises the lab's dockerd and a process's parent", () => {
    expect(isLabDockerd([DOCKERD, ...DOCKERD_ARGS])).toBe(true);
    expect(isLabDockerd([DOCKERD, '--iptables=false'])).toBe(false);
    expect(parsePpid('4242 (qemu (x) y) S 1 4242 4242 0 -1')).toBe(1);
  });
});

describe('discoverLabResources', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'forge-res-test-'));
    dirs.push(d);
    return d;
  };

  it("judges every resource by its owner: alive = running, dead = leftover, kept dirs and ownerless things apart", async () => {
    const live = 1000;
    const dead = 2000;
    const isAlive = (pid: number): boolean => pid === live;
    const tmp = temp();
    const stateDir = temp();
    const proc = temp();
    // Kept labs: one live owner, one dead.
    for (const pid of [live, dead]) {
      writeKeptLab({ version: 1, pid, kind: 'test', startedAt: 'now', nodes: [] }, stateDir);
    }
    // Temp dirs: a live VM dir, a killed run's VM dir, a dead --keep lab's dir, one without a mark.
    for (const [name, pid, release] of [['forge-vm-a-1', live, true], ['forge-vm-b-2', dead, true], ['forge-lab-c', dead, false]] as const) {
      mkdirSync(join(tmp, name));
      writeOwnerMark(join(tmp, name), release, pid);
    }
    mkdirSync(join(tmp, 'forge-lab-unmarked'));
    // Processes: a killed run's QEMU (its mark names the dead owner), the lab's dockerd, something else.
    const qemuDir = join(tmp, 'forge-vm-b-2');
    const procs: [number, string[], number][] = [
      [31, [`/usr/bin/${QEMU_BIN}`, '-qmp', `unix:${qemuDir}/qmp.sock,server=on,wait=off`], 1],
      [32, [DOCKERD, ...DOCKERD_ARGS], 1],
      [33, ['/bin/sleep', '100'], 1],
      // A live lab's radvd with its privsep child (same argv), and one orphaned by a killed run.
      [41, radvdArgv(join(tmp, 'forge-radvd-fmbr97x1-a', 'radvd.conf'), '/x/radvd.pid'), live],
      [42, radvdArgv(join(tmp, 'forge-radvd-fmbr97x1-a', 'radvd.conf'), '/x/radvd.pid'), 41],
      [43, radvdArgv(join(tmp, 'forge-radvd-fmbr97x2-b', 'radvd.conf'), '/y/radvd.pid'), 1],
      // Someone else's radvd is not ours to judge.
      [44, ['/usr/sbin/radvd', '--config', '/etc/radvd.conf'], 1],
    ];
    for (const [pid, argv, ppid] of procs) {
      mkdirSync(join(proc, String(pid)));
      writeFileSync(join(proc, String(pid), 'cmdline'), argv.join('\0') + '\0');
      writeFileSync(join(proc, String(pid), 'stat'), `${pid} (x) S ${ppid} 0 0`);
    }
    const runner = new RecordingRunner({
      respond: (argv) => {
        const a = argv.join(' ');
        if (a.startsWith('docker info')) return { stdout: '27.0\n' };
        if (a.startsWith('docker network ls')) return { stdout: `net-live ${live}\nnet-dead ${dead}\n` };
        if (a.includes('network inspect') && a.endsWith('net-live')) return { stdout: 'fmbr97x1\n' };
        if (a.includes('network inspect') && a.endsWith('net-dead')) return { stdout: 'fmbr97x2\n' };
        if (a.startsWith('docker ps')) return { stdout: `c1\tnet-live-dnsmasq\tnet-live\t${live}\trunning\nc2\tnet-dead-images\tnet-dead\t\texited\n` };
        if (a === 'ip -o link show') {
          return { stdout: ['7: fmbr97x1: <UP>', '8: fmbr97x2: <UP>', '9: fmt1-0: <UP> master fmbr97x1 state UP', '10: fmt2-0: <UP> master fmbr97x2', '11: fmt9-0: <UP>', '12: eth0: <UP>'].join('\n') };
        }
        if (a.startsWith('iptables -w -t filter -S FORWARD')) return { stdout: `-A FORWARD -i fmbr97x2 ! -o fmbr97x2 -m comment --comment "forge-guard:fmbr97x2:${dead}:drop" -c 0 0 -j DROP\n` };
        if (a === 'iptables -S FORWARD') return { stdout: '-P FORWARD DROP\n-A FORWARD -i fmbr97x2 -o fmbr97x2 -j ACCEPT\n' };
        return { stdout: '' };
      },
    });
    const found = await discoverLabResources(runner, { isAlive, stateDir, tmp, proc });
    const state = (kind: string, id: string): string | undefined => found.find((r) => r.kind === kind && r.id === id)?.state;
    expect(state('kept-lab', join(stateDir, `${live}.json`))).toBe('running');
    expect(state('kept-lab', join(stateDir, `${dead}.json`))).toBe('leftover');
    expect(state('network', 'net-live')).toBe('running');
    expect(state('network', 'net-dead')).toBe('leftover');
    expect(state('container', 'c1')).toBe('running');
    // No pid label: judged by its network's owner.
    expect(state('container', 'c2')).toBe('leftover');
    expect(state('link', 'fmbr97x1')).toBe('running');
    expect(state('link', 'fmt1-0')).toBe('running');
    expect(state('link', 'fmbr97x2')).toBe('leftover');
    expect(state('link', 'fmt2-0')).toBe('leftover');
    expect(state('link', 'fmt9-0')).toBe('leftover');
    expect(found.some((r) => r.id === 'eth0')).toBe(false);
    expect(state('guard-rule', 'fmbr97x2:drop')).toBe('leftover');
    expect(state('forward-rule', 'fmbr97x2')).toBe('leftover');
    expect(found.find((r) => r.kind === 'qemu')).toMatchObject({ id: '31', owner: dead, state: 'leftover' });
    expect(state('dockerd', '32')).toBe('running');
    expect(found.filter((r) => r.kind === 'radvd').map((r) => [r.id, r.state])).toEqual([['41', 'running'], ['43', 'leftover']]);
    expect(found.filter((r) => r.kind === 'qemu' || r.kind === 'dockerd')).toHaveLength(2);
    expect(state('dir', join(tmp, 'forge-vm-a-1'))).toBe('running');
    expect(state('dir', join(tmp, 'forge-vm-b-2'))).toBe('leftover');
    expect(state('dir', join(tmp, 'forge-lab-c'))).toBe('kept');
    expect(found.some((r) => r.id.endsWith('forge-lab-unmarked'))).toBe(false);
    // Only read-only commands ran.
    expect(runner.planned).toEqual([]);
    const table = formatResources(found);
    expect(table[0]).toMatch(/^STATE\s+KIND\s+ID\s+OWNER\s+DETAIL$/);
    expect(table[1]).toMatch(/^leftover /);
  });

  it('without docker, bridges are still judged by their guard rules', async () => {
    const runner = new RecordingRunner({
      respond: (argv) => {
        const a = argv.join(' ');
        if (a.startsWith('docker')) return { exitCode: 1, stderr: 'Cannot connect to the Docker daemon' };
        if (a === 'ip -o link show') return { stdout: '7: fmbr97x1: <UP>\n9: fmt1-0: <UP> master fmbr97x1 state UP\n' };
        if (a.startsWith('iptables -w -t filter -S FORWARD')) return { stdout: '-A FORWARD -i fmbr97x1 ! -o fmbr97x1 -m comment --comment "forge-guard:fmbr97x1:1000:drop" -c 0 0 -j DROP\n' };
        return { stdout: '' };
      },
    });
    const found = await discoverLabResources(runner, { isAlive: (p) => p === 1000, stateDir: temp(), tmp: temp(), proc: temp() });
    expect(found.filter((r) => r.kind === 'link').map((r) => [r.id, r.state])).toEqual([['fmbr97x1', 'running'], ['fmt1-0', 'running']]);
  });
});
