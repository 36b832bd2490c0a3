// The fleet's private network: one Linux bridge holding the master's address and,
// per simulated node, a network namespace whose only NIC (eth0, a veth) is plugged
// into it. Addresses come from 10.231.0.0/16; no namespace has a default route and
// the bridge does not forward, so node traffic reaches the master and nothing else.
// Everything created is undone in reverse on dispose; a killed run's leftovers
// are found by their names (fleet-sweep.ts).
import { CleanupStack } from '../../agent/core/cleanup.js';
import { ForgeError } from '../../agent/core/errors.js';
import type { Runner } from '../../agent/core/runner.js';
import { IFNAME_MAX, linkDelArgv, linkMasterArgv, linkUpArgv, routesArgv } from '../master/ip-link.js';
import { ownerTag } from './fleet-owner.js';

export const FLEET_PREFIX = '10.231';
const PREFIX_LEN = 16;
const T = { timeoutMs: 15_000 };

export interface FleetNode {
  index: number;
  /** node-<index+1>, as the tables name it. */
  name: string;
  ns: string;
  ip: string;
  mac: string;
  /** The veth's end on the host, enslaved to the bridge. */
  hostVeth: string;
}

// Pure address plan: the bridge is .0.1, node i is the (i+2)-th address of the /16.
export const masterIpOf = (): string => `${FLEET_PREFIX}.0.1`;
export function nodeIpOf(index: number): string {
  const n = index + 2;
  if (!Number.isInteger(index) || index < 0 || n > 0xfffe) throw new ForgeError('USAGE', `fleet node index out of range: ${index}`, { field: 'nodes' });
  return `${FLEET_PREFIX}.${n >> 8}.${n & 0xff}`;
}
/** Locally administered, unicast, unique per index. */
export function nodeMacOf(index: number): string {
  const hex = (b: number): string => b.toString(16).padStart(2, '0');
  return `02:f1:ee:00:${hex((index >> 8) & 0xff)}:${hex(index & 0xff)}`;
}
/** Names carry the owner tag (fleet-owner.ts). */
export function fleetNames(pid: number, index: number): { bridge: string; ns: string; hostVeth: string } {
  const tag = ownerTag(pid);
  const names = { bridge: `ffb${tag}`, ns: `forge-fleet-${tag}-${index}`, hostVeth: `ffv${tag}x${index}` };
  if (names.hostVeth.length > IFNAME_MAX) throw new ForgeError('USAGE', `fleet: interface name ${names.hostVeth} is longer than ${IFNAME_MAX}`, { field: 'nodes' });
  return names;
}
/** The owner tag in a fleet namespace's or bridge's name; undefined for anything else. */
export const nsOwner = (name: string): string | undefined => /^forge-fleet-([0-9a-z]+)-\d+$/.exec(name)?.[1];
export const bridgeOwner = (name: string): string | undefined => /^ffb([0-9a-z]+)$/.exec(name)?.[1];

/** True when a route already covers (or sits inside) 10.231.0.0/16: someone else uses it. */
export function prefixInUse(routes: string): boolean {
  const [a, b] = FLEET_PREFIX.split('.').map(Number) as [number, number];
  const ours = ((a << 24) | (b << 16)) >>> 0;
  return routes.split('\n').some((l) => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(l.trim().split(/\s+/)[0] ?? '');
    if (!m) return false;
    const net = [1, 2, 3, 4].reduce((acc, i) => ((acc << 8) | Number(m[i])) >>> 0, 0);
    // Compare on the shorter of the two prefixes: either network contains the other.
    const len = Math.min(PREFIX_LEN, m[5] === undefined ? 32 : Number(m[5]));
    const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
    return ((net & mask) >>> 0) === ((ours & mask) >>> 0);
  });
}

export const nsExec = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

export interface FleetNet extends AsyncDisposable {
  bridge: string;
  masterIp: string;
  nodes: FleetNode[];
  dispose(): Promise<void>;
}

/** Builds the bridge and `count` node namespaces; a failure part-way undoes what was built. */
export async function startFleetNet(runner: Runner, count: number, o: { pid?: number; signal?: AbortSignal } = {}): Promise<FleetNet> {
  const pid = o.pid ?? process.pid;
  const { bridge } = fleetNames(pid, 0);
  const masterIp = masterIpOf();
  // Every link and namespace is released in reverse, also when building fails part-way.
  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  const run = async (argv: string[], undo?: string[]): Promise<void> => {
    if (o.signal?.aborted) throw new ForgeError('ABORTED', 'fleet network: aborted while building');
    await runner.run(argv, T);
    if (undo) stack.defer(undo.join(' '), () => runner.run(undo, T));
  };
  const dispose = (): Promise<void> => stack.dispose();
  const nodes: FleetNode[] = [];
  try {
    const routes = (await runner.run(routesArgv(), { ...T, readOnly: true })).stdout;
    if (prefixInUse(routes)) throw new ForgeError('LAB_FAILED', `fleet network: ${FLEET_PREFIX}.0.0/${PREFIX_LEN} is already routed on this host:\n${routes.trim()}`);
    await run(['ip', 'link', 'add', 'name', bridge, 'type', 'bridge'], linkDelArgv(bridge));
    // Nothing arriving on the bridge is routed anywhere else, whatever ip_forward says host-wide.
    await run(['sysctl', '-q', '-w', `net.ipv4.conf.${bridge}.forwarding=0`]);
    await run(['ip', 'addr', 'add', `${masterIp}/${PREFIX_LEN}`, 'dev', bridge]);
    await run(linkUpArgv(bridge));
    for (let i = 0; i < count; i++) {
      const { ns, hostVeth } = fleetNames(pid, i);
      const node: FleetNode = { index: i, name: `node-${i + 1}`, ns, ip: nodeIpOf(i), mac: nodeMacOf(i), hostVeth };
      await run(['ip', 'netns', 'add', ns], ['ip', 'netns', 'del', ns]);
      // The node end is born inside the namespace, already named and addressed like a NIC.
      await run(['ip', 'link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'address', node.mac, 'netns', ns], linkDelArgv(hostVeth));
      await run(linkMasterArgv(hostVeth, bridge));
      await run(linkUpArgv(hostVeth));
      await run(['ip', '-n', ns, 'addr', 'add', `${node.ip}/${PREFIX_LEN}`, 'dev', 'eth0']);
      await run(['ip', '-n', ns, 'link', 'set', 'dev', 'lo', 'up']);
      await run(['ip', '-n', ns, 'link', 'set', 'dev', 'eth0', 'up']);
      nodes.push(node);
    }
  } catch (e) {
    await stack.unwind(e);
  }
  return { bridge, masterIp, nodes, dispose, [Symbol.asyncDispose]: dispose };
}
