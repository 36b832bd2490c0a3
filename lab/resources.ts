// Everything the lab may have left on this machine, found with the real tools:
// kept labs (state files), master networks, containers with the lab label, lab
// links (bridges fmbr…, taps fmt…), QEMU processes of forge VMs, the bridges' radvd, the dockerd the
// lab started, containment-guard and FORWARD-accept rules, lab and VM directories.
// Each is judged by its owner pid: alive = running, dead = leftover (or kept,
// for a directory its owner meant to keep). Parsers are pure; `discoverLabResources`
// is the only part that runs tools, and only read-only ones.
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processAlive } from '../agent/host/build/build-lock.js';
import type { Runner } from '../agent/core/runner.js';
import { listKeptLabs, keptLabsDir } from './kept-lab.js';
import { DOCKER, LAB_LABEL, OWNER_PID_LABEL, dockerProbe, infoArgv } from './master/docker-cli.js';
import { DOCKERD, DOCKERD_ARGS } from './master/docker-daemon.js';
import { allGuardRules } from './master/guard.js';
import { forwardListArgv } from './master/iptables.js';
import { RADVD_DIR_PREFIX, labRadvdConfOf } from './master/router-adverts.js';
import { bridgeNameArgv, labNetworksArgv } from './master/stale.js';
import { readOwnerMark } from './owner-mark.js';
import { QEMU_BIN, VM_DIR_PREFIX } from './vm/qemu.js';

/** running: its owner lives; leftover: its owner is dead; kept: artifacts its owner kept; unknown: no owner recorded (never removed). */
export type ResourceState = 'running' | 'leftover' | 'kept' | 'unknown';
export type ResourceKind = 'kept-lab' | 'network' | 'container' | 'qemu' | 'radvd' | 'link' | 'dockerd' | 'guard-rule' | 'forward-rule' | 'dir';

export interface LabResource {
  kind: ResourceKind;
  /** What removes it: a pid, name, container id, path, bridge. */
  id: string;
  owner?: number;
  state: ResourceState;
  detail: string;
}

/** Lab interfaces: master bridges `fmbr<b>x<c>`, taps `fmt<c>-<n>` (lab/master/addressing.ts, master-net.ts). */
export const LAB_LINK_RE = /^fm(br|t)/;
export const LAB_DIR_PREFIX = 'forge-lab-';

const FMT = ['{{.ID}}', '{{.Names}}', `{{.Label "${LAB_LABEL}"}}`, `{{.Label "${OWNER_PID_LABEL}"}}`, '{{.State}}'].join('\t');
export const labContainersArgv = (): string[] => [DOCKER, 'ps', '--all', '--filter', `label=${LAB_LABEL}`, '--format', FMT];
export const allLinksArgv = (): string[] => ['ip', '-o', 'link', 'show'];

const pidOf = (s: string | undefined): number | undefined => {
  const n = Number(s);
  return s && Number.isInteger(n) && n > 0 ? n : undefined;
};

export interface SeenContainer { id: string; name: string; network: string; owner?: number; status: string }

/** `docker ps` lines in labContainersArgv's format. */
export function parseLabContainers(out: string): SeenContainer[] {
  return out.split('\n').flatMap((l) => {
    const [id, name, network, pid, status] = l.split('\t');
    if (!id?.trim() || name === undefined) return [];
    const owner = pidOf(pid?.trim());
    return [{ id: id.trim(), name, network: network ?? '', ...(owner ? { owner } : {}), status: (status ?? '').trim() }];
  });
}

/** `docker network ls` lines of stale.ts's labNetworksArgv: `name pid`. */
export function parseLabNetworks(out: string): { name: string; owner?: number }[] {
  return out.split('\n').flatMap((l) => {
    const [name, pid] = l.trim().split(/\s+/);
    if (!name) return [];
    const owner = pidOf(pid);
    return [{ name, ...(owner ? { owner } : {}) }];
  });
}

/** `ip -o link show`: `12: fmt5-0: <…> mtu 1500 … master fmbr97x5 state UP …` (veths carry `@ifN`). */
export function parseLinks(out: string): { name: string; master?: string }[] {
  return out.split('\n').flatMap((l) => {
    const m = /^\d+:\s+([^:@\s]+)(?:@\S+)?:/.exec(l);
    if (!m?.[1]) return [];
    const master = / master (\S+)/.exec(l)?.[1];
    return [{ name: m[1], ...(master ? { master } : {}) }];
  });
}

/** Bridges of `-A FORWARD -i BR -o BR -j ACCEPT` rules (lab/master/iptables.ts) on lab bridges. */
export function parseForwardAccepts(listing: string): string[] {
  return listing.split('\n').flatMap((l) => {
    const m = /^-A FORWARD -i (\S+) -o (\S+) -j ACCEPT\s*$/.exec(l.trim());
    return m?.[1] && m[1] === m[2] && LAB_LINK_RE.test(m[1]) ? [m[1]] : [];
  });
}

/** /proc/<pid>/cmdline → argv. */
export const parseCmdline = (raw: string): string[] => raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);

/** The VM directory of a QEMU started by lab/vm/qemu.ts (where its QMP socket is), else undefined. */
export function vmDirOfArgv(argv: readonly string[]): string | undefined {
  if (basename(argv[0] ?? '') !== QEMU_BIN) return undefined;
  for (let i = 1; i < argv.length; i++) {
    const m = argv[i - 1] === '-qmp' ? /^unix:([^,]+)/.exec(argv[i] ?? '') : null;
    if (m?.[1]) return dirname(m[1]);
  }
  return undefined;
}

/** A forge VM's directory: a temp dir of the driver or the lab (the owner mark decides the rest). */
export const isForgeVmDir = (dir: string): boolean => dir.includes(`/${VM_DIR_PREFIX}`) || dir.includes(`/${LAB_DIR_PREFIX}`);

/** dockerd as lab/master/docker-daemon.ts starts it. */
export const isLabDockerd = (argv: readonly string[]): boolean =>
  argv[0] === DOCKERD && DOCKERD_ARGS.every((a) => argv.includes(a));

/** The parent pid from /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
export function parsePpid(stat: string): number | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return pidOf(rest[1]);
}

export interface DiscoverOptions {
  isAlive?: (pid: number) => boolean;
  stateDir?: string;
  tmp?: string;
  proc?: string;
}

const ownedState = (owner: number | undefined, alive: (pid: number) => boolean): ResourceState =>
  owner === undefined ? 'unknown' : alive(owner) ? 'running' : 'leftover';

function processes(proc: string): { pid: number; argv: string[]; ppid?: number }[] {
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  return pids.flatMap((p) => {
    try {
      const argv = parseCmdline(readFileSync(join(proc, p, 'cmdline'), 'latin1'));
      const ppid = parsePpid(readFileSync(join(proc, p, 'stat'), 'latin1'));
      return argv.length ? [{ pid: Number(p), argv, ...(ppid ? { ppid } : {}) }] : [];
    } catch {
      // Gone while we looked.
      return [];
    }
  });
}

/** Every lab resource on this machine, each with its state. Read-only. */
export async function discoverLabResources(runner: Runner, o: DiscoverOptions = {}): Promise<LabResource[]> {
  const alive = o.isAlive ?? processAlive;
  const out: LabResource[] = [];
  const read = (argv: string[]): Promise<string | undefined> => dockerProbe(runner, argv);

  for (const e of listKeptLabs(o.stateDir ?? keptLabsDir(), alive)) {
    const nodes = e.lab?.nodes.map((n) => `${n.name}${n.ip ? ` (${n.ip})` : ''}`).join(', ');
    out.push({
      kind: 'kept-lab', id: e.file, owner: e.pid, state: e.alive ? 'running' : 'leftover',
      detail: e.lab ? `${e.lab.kind}, nodes ${nodes || 'none'}${e.lab.master ? `, bridge ${e.lab.master.bridge}` : ''}` : `unreadable: ${e.error ?? ''}`,
    });
  }

  // Bridge → the state of the network that owns it (for links and FORWARD rules).
  const bridges = new Map<string, { state: ResourceState; owner?: number }>();
  const networkState = new Map<string, { state: ResourceState; owner?: number }>();
  const dockerUp = (await read(infoArgv()))?.trim();
  if (dockerUp) {
    for (const n of parseLabNetworks((await read(labNetworksArgv())) ?? '')) {
      const state = ownedState(n.owner, alive);
      const bridge = (await read(bridgeNameArgv(n.name)))?.trim() ?? '';
      if (bridge) bridges.set(bridge, { state, ...(n.owner ? { owner: n.owner } : {}) });
      networkState.set(n.name, { state, ...(n.owner ? { owner: n.owner } : {}) });
      out.push({ kind: 'network', id: n.name, ...(n.owner ? { owner: n.owner } : {}), state, detail: `bridge ${bridge || '?'}` });
    }
    for (const c of parseLabContainers((await read(labContainersArgv())) ?? '')) {
      const owner = c.owner ?? networkState.get(c.network)?.owner;
      out.push({ kind: 'container', id: c.id, ...(owner ? { owner } : {}), state: ownedState(owner, alive), detail: `${c.name} (${c.status}) on ${c.network}` });
    }
  }

  // Guard rules carry their bridge's owner too: bridges stay judged when docker does not answer.
  const guards = await allGuardRules(runner).catch(() => []);
  for (const r of guards) {
    const state: ResourceState = alive(r.pid) ? 'running' : 'leftover';
    if (bridges.get(r.bridge)?.state !== 'running') bridges.set(r.bridge, { state, owner: r.pid });
    out.push({ kind: 'guard-rule', id: `${r.bridge}:${r.role}`, owner: r.pid, state, detail: `${r.bin} -t ${r.table} ${r.spec.join(' ')}` });
  }

  const links = parseLinks((await runner.run(allLinksArgv(), { timeoutMs: 10_000, readOnly: true }).catch(() => undefined))?.stdout ?? '');
  // A lab link no live network or guard accounts for is a leftover.
  const linkOwner = (bridge: string | undefined): { state: ResourceState; owner?: number } => (bridge ? bridges.get(bridge) : undefined) ?? { state: 'leftover' };
  // Bridges first: a tap is judged by the bridge it is on.
  for (const l of links.filter((x) => x.name.startsWith('fmbr'))) {
    out.push({ kind: 'link', id: l.name, ...linkOwner(l.name), detail: bridges.has(l.name) ? 'lab bridge' : 'lab bridge nothing accounts for' });
  }
  for (const l of links.filter((x) => LAB_LINK_RE.test(x.name) && !x.name.startsWith('fmbr'))) {
    out.push({ kind: 'link', id: l.name, ...linkOwner(l.master), detail: l.master ? `tap on ${l.master}` : 'tap on no bridge' });
  }

  const forward = await runner.run(forwardListArgv(), { timeoutMs: 15_000, readOnly: true }).catch(() => undefined);
  for (const b of parseForwardAccepts(forward?.stdout ?? '')) {
    out.push({ kind: 'forward-rule', id: b, ...linkOwner(b), detail: `iptables FORWARD -i ${b} -o ${b} -j ACCEPT` });
  }

  const procs = processes(o.proc ?? '/proc');
  // radvd forks a privilege-separation child with the same argv: count the parent only.
  const radvdPids = new Set(procs.filter((p) => labRadvdConfOf(p.argv)).map((p) => p.pid));
  for (const p of procs) {
    if (isLabDockerd(p.argv)) {
      out.push({ kind: 'dockerd', id: String(p.pid), state: 'running', detail: `started by the lab: ${p.argv.join(' ')}` });
      continue;
    }
    const conf = labRadvdConfOf(p.argv);
    if (conf) {
      if (p.ppid !== undefined && radvdPids.has(p.ppid)) continue;
      // A master network's radvd (lab/master/router-adverts.ts): its parent is the lab's process.
      const owner = p.ppid && p.ppid !== 1 ? p.ppid : undefined;
      out.push({ kind: 'radvd', id: String(p.pid), ...(owner ? { owner } : {}), state: owner === undefined ? 'leftover' : ownedState(owner, alive), detail: `config ${conf}` });
      continue;
    }
    const dir = vmDirOfArgv(p.argv);
    if (!dir) continue;
    const mark = readOwnerMark(dir);
    if (!mark && !isForgeVmDir(dir)) continue;
    // Without a mark, the parent: a killed owner's QEMU is re-parented (to 1 or a subreaper).
    const owner = mark?.pid ?? (p.ppid && p.ppid !== 1 ? p.ppid : undefined);
    const state = owner === undefined ? 'leftover' : ownedState(owner, alive);
    out.push({ kind: 'qemu', id: String(p.pid), ...(owner ? { owner } : {}), state, detail: `VM dir ${dir}` });
  }

  const tmp = o.tmp ?? tmpdir();
  let entries: string[] = [];
  try {
    entries = readdirSync(tmp).filter((n) => n.startsWith(VM_DIR_PREFIX) || n.startsWith(LAB_DIR_PREFIX) || n.startsWith(RADVD_DIR_PREFIX));
  } catch {
    // No temp dir to look at.
  }
  for (const n of entries) {
    const dir = join(tmp, n);
    const mark = readOwnerMark(dir);
    // Directories without a mark predate it (or are not ours): not ours to judge.
    if (!mark) continue;
    const state: ResourceState = alive(mark.pid) ? 'running' : mark.release ? 'leftover' : 'kept';
    out.push({ kind: 'dir', id: dir, owner: mark.pid, state, detail: mark.release ? 'removed on disposal' : 'kept on disposal (--keep)' });
  }
  return out;
}

/** `lab ls`: one line per resource, leftovers first. */
export function formatResources(rs: readonly LabResource[]): string[] {
  const order: ResourceState[] = ['leftover', 'running', 'kept', 'unknown'];
  const sorted = [...rs].sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state));
  const w = Math.max(12, ...sorted.map((r) => r.id.length));
  return [
    `${'STATE'.padEnd(9)} ${'KIND'.padEnd(12)} ${'ID'.padEnd(w)} ${'OWNER'.padEnd(7)} DETAIL`,
    ...sorted.map((r) => `${r.state.padEnd(9)} ${r.kind.padEnd(12)} ${r.id.padEnd(w)} ${String(r.owner ?? '-').padEnd(7)} ${r.detail}`),
  ];
}
