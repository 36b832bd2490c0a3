// A kept lab: `lab demo --keep` (or replay) leaves its nodes running and stays
// alive as their owner, so the stale sweeps never take it. It describes itself in
// a state file (<state dir>/<pid>.json) that `lab console|ssh|disks|ls|down` read,
// and holds until SIGINT/SIGTERM (Ctrl-C or `lab down`), then disposes as usual.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ForgeError } from '../agent/core/errors.js';
import { parseJsonAs } from '../agent/core/parse-json.js';
import { processAlive } from '../agent/host/build/build-lock.js';
import { planSchema } from '../agent/plan/plan-schema.js';
import type { Plan } from '../agent/plan/types.js';
import type { Lab } from './lab.js';
import type { StartedVm } from './vm/qemu.js';

export const KEPT_LAB_VERSION = 1 as const;

/** Where state files live; FORGE_LAB_STATE_DIR moves them (tests). */
export function keptLabsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['FORGE_LAB_STATE_DIR'] || '/run/fuel-forge/labs';
}

const keptNode = z.object({
  name: z.string().regex(/^[\w.-]+$/),
  macs: z.array(z.string()),
  /** The node's address on the lab bridge, when known at keep time (else: the master's DHCP acks). */
  ip: z.string().exactOptional(),
  /** Why the host has no network path to the node (replay: restricted user networking). */
  unreachable: z.string().exactOptional(),
  vmDir: z.string(),
  qemuPid: z.number().int().positive().exactOptional(),
  serialLog: z.string(),
  consoleSocket: z.string(),
  /** QMP for processes other than the owner (the owner holds the first socket). */
  controlSocket: z.string(),
  disks: z.array(z.object({ file: z.string(), sectorSize: z.union([z.literal(512), z.literal(4096)]) })),
  /** The plan the node was provisioned with, when known: `lab disks` checks the disks against it. */
  plan: planSchema.exactOptional(),
});

const keptLabSchema = z.object({
  version: z.literal(KEPT_LAB_VERSION),
  pid: z.number().int().positive(),
  kind: z.enum(['demo', 'replay', 'test']),
  startedAt: z.string(),
  labDir: z.string().exactOptional(),
  master: z.object({ network: z.string(), bridge: z.string(), subnet: z.string() }).exactOptional(),
  sshKey: z.object({ path: z.string(), publicKey: z.string(), knownHosts: z.string() }).exactOptional(),
  nodes: z.array(keptNode),
});

export type KeptNode = z.output<typeof keptNode>;
export type KeptLab = z.output<typeof keptLabSchema>;

export const keptLabFile = (pid: number, dir = keptLabsDir()): string => join(dir, `${pid}.json`);

/** Writes the state file atomically (readers never see half of it); returns its path. */
export function writeKeptLab(state: KeptLab, dir = keptLabsDir()): string {
  mkdirSync(dir, { recursive: true });
  const file = keptLabFile(state.pid, dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
  return file;
}

export function readKeptLab(file: string): KeptLab {
  return parseJsonAs(keptLabSchema, readFileSync(file, 'utf8'), { source: file, code: 'LAB_FAILED' });
}

export interface KeptLabEntry {
  file: string;
  /** From the file name, so a state file that no longer parses still names its owner. */
  pid: number;
  alive: boolean;
  lab?: KeptLab;
  error?: string;
}

export function listKeptLabs(dir = keptLabsDir(), isAlive: (pid: number) => boolean = processAlive): KeptLabEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^\d+\.json$/.test(n)).map((n): KeptLabEntry => {
    const file = join(dir, n);
    const pid = Number(n.slice(0, -'.json'.length));
    const alive = isAlive(pid);
    try {
      return { file, pid, alive, lab: readKeptLab(file) };
    } catch (e) {
      return { file, pid, alive, error: (e as Error).message };
    }
  });
}

export const removeKeptLab = (file: string): void => rmSync(file, { force: true });

/**
 * The node `name` of a kept lab (of `pid` when given). A live owner's node wins
 * over a dead one's; two live labs with that node need --lab.
 */
export function findKeptNode(entries: readonly KeptLabEntry[], name: string, pid?: number): { lab: KeptLab; node: KeptNode; alive: boolean } {
  const hits = entries.flatMap((e) => {
    const node = e.lab?.nodes.find((n) => n.name === name);
    return e.lab && node && (pid === undefined || e.pid === pid) ? [{ lab: e.lab, node, alive: e.alive }] : [];
  });
  const live = hits.filter((h) => h.alive);
  const pick = live.length ? live : hits;
  if (pick.length > 1) {
    throw new ForgeError('USAGE', `node ${name} is in kept labs ${pick.map((h) => h.lab.pid).join(', ')}: pass --lab PID`, { field: 'lab' });
  }
  const hit = pick[0];
  if (!hit) {
    const known = entries.flatMap((e) => e.lab?.nodes.map((n) => `${n.name} (lab ${e.pid})`) ?? []);
    throw new ForgeError('USAGE', `no kept lab${pid === undefined ? '' : ` ${pid}`} has a node ${name}; kept nodes: ${known.join(', ') || 'none'} (see \`lab ls\`)`, { field: 'node' });
  }
  return hit;
}

/** The plan in an agent run report (`provision run` prints it), parsed; undefined when absent or not a plan. */
export function planFromReport(report: unknown): Plan | undefined {
  if (typeof report !== 'object' || report === null) return undefined;
  const r = planSchema.safeParse((report as Record<string, unknown>)['plan']);
  return r.success ? r.data : undefined;
}

/** A running VM as a kept node. */
export function keptNodeOfVm(name: string, vm: StartedVm, extra: { ip?: string; unreachable?: string; plan?: Plan } = {}): KeptNode {
  return {
    name,
    macs: vm.spec.nics.map((n) => n.mac),
    ...extra,
    vmDir: vm.files.dir,
    ...(vm.exited() ? {} : { qemuPid: vm.pid }),
    serialLog: vm.files.serialLog,
    consoleSocket: vm.files.consoleSocket,
    controlSocket: vm.files.controlSocket,
    disks: vm.files.disks.map((file, i) => ({ file, sectorSize: vm.spec.disks[i]?.logicalBlockSize ?? 512 })),
  };
}

/** A lab (master network, key, VMs) as a kept lab's state. */
export function keptLabOf(lab: Lab, kind: KeptLab['kind'], nodes: KeptNode[]): KeptLab {
  return {
    version: KEPT_LAB_VERSION,
    pid: process.pid,
    kind,
    startedAt: new Date().toISOString(),
    labDir: lab.dir,
    master: { network: lab.master.name, bridge: lab.master.bridge, subnet: lab.master.subnet },
    sshKey: { path: lab.deploy.key.path, publicKey: lab.deploy.key.publicKey, knownHosts: lab.deploy.key.knownHosts },
    nodes,
  };
}

const CLI = 'npx tsx lab/cli.ts';

/** How to reach each node, for the operator. */
export function reachInstructions(state: KeptLab): string[] {
  const lines = [`lab kept (owner pid ${state.pid}${state.master ? `, bridge ${state.master.bridge} ${state.master.subnet}` : ''}); its nodes:`];
  for (const n of state.nodes) {
    lines.push(`  ${n.name}${n.ip ? ` ${n.ip}` : ''}  (VM dir ${n.vmDir})`);
    lines.push(`    ${CLI} console ${n.name}      serial console; detach with Ctrl-]`);
    lines.push(n.unreachable ? `    (no ssh: ${n.unreachable})` : `    ${CLI} ssh ${n.name} [-- CMD…]   root with the lab key`);
    lines.push(`    ${CLI} disks ${n.name}        power off, then read its disks on the host`);
  }
  lines.push(`  ${CLI} ls    what runs;   ${CLI} down    (or Ctrl-C here) tears the lab down`);
  return lines;
}

/**
 * Publishes the state file, prints how to reach the nodes and waits for `signal`
 * (SIGINT/SIGTERM); the state file goes before the caller disposes the lab.
 */
export async function holdKeptLab(state: KeptLab, signal: AbortSignal, out: (line: string) => void, dir = keptLabsDir()): Promise<void> {
  const file = writeKeptLab(state, dir);
  try {
    for (const l of reachInstructions(state)) out(l);
    out(`state: ${file}; waiting for Ctrl-C or \`${CLI} down\``);
    // A pending promise does not keep Node running: once the VMs stop (`lab disks`) nothing else might.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      clearInterval(keepAlive);
    }
    out('tearing the kept lab down');
  } finally {
    removeKeptLab(file);
  }
}
