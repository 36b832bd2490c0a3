// The containment guard of a lab bridge: nothing a node or container on it sends
// may leave the lab. Three iptables rules per bridge, tagged with the bridge and
// the owner's pid so a later run sweeps what a killed one left:
//   filter FORWARD      -i BR ! -o BR           DROP   (routed out of the lab: never)
//   raw PREROUTING      -i BR ! -d SUBNET ...   count  (anything addressed outside the lab, even
//                                                       when forwarding is off and the kernel drops it)
//   mangle POSTROUTING  -s SUBNET ! -o BR ...   count  (a lab source leaving by another interface
//                                                       for a non-local address: must stay 0)
// plus the FORWARD drop in ip6tables where it exists. Installed before the
// network, its containers and taps exist (-i matches names not yet created).
import { processAlive } from '../../agent/host/build/build-lock.js';
import { ForgeError } from '../../agent/core/errors.js';
import type { Logger } from '../../agent/core/log.js';
import { ToolError, type Runner } from '../../agent/core/runner.js';

export const GUARD_TAG = 'forge-guard';

export type GuardRole = 'drop' | 'attempt' | 'leak' | 'drop6';

interface RuleSpec {
  bin: 'iptables' | 'ip6tables';
  table: 'filter' | 'raw' | 'mangle';
  chain: string;
  role: GuardRole;
  /** Match and target, without the comment. */
  body: string[];
}

export interface GuardTarget {
  bridge: string;
  /** a.b.c.0/24 */
  subnet: string;
  /** Owner process; default this one. */
  pid?: number;
}

export const guardComment = (bridge: string, pid: number, role: GuardRole): string => `${GUARD_TAG}:${bridge}:${pid}:${role}`;

export function guardRules(t: GuardTarget): RuleSpec[] {
  const { bridge, subnet } = t;
  return [
    { bin: 'iptables', table: 'filter', chain: 'FORWARD', role: 'drop', body: ['-i', bridge, '!', '-o', bridge, '-j', 'DROP'] },
    {
      bin: 'iptables', table: 'raw', chain: 'PREROUTING', role: 'attempt',
      // DHCP discovers (255.255.255.255) and multicast stay on the segment.
      body: ['-i', bridge, '!', '-d', subnet, '-m', 'addrtype', '!', '--dst-type', 'BROADCAST,MULTICAST'],
    },
    {
      bin: 'iptables', table: 'mangle', chain: 'POSTROUTING', role: 'leak',
      // The host talking to its own bridge address goes out through lo: that stays on the host.
      body: ['-s', subnet, '!', '-o', bridge, '-m', 'addrtype', '!', '--dst-type', 'LOCAL'],
    },
    { bin: 'ip6tables', table: 'filter', chain: 'FORWARD', role: 'drop6', body: ['-i', bridge, '!', '-o', bridge, '-j', 'DROP'] },
  ];
}

/** Insert (-I, first in the chain) or delete (-D) one guard rule. */
export function guardRuleArgv(op: '-I' | '-D', r: RuleSpec, bridge: string, pid: number): string[] {
  const pos = op === '-I' ? ['1'] : [];
  return [r.bin, '-w', '-t', r.table, op, r.chain, ...pos, ...r.body, '-m', 'comment', '--comment', guardComment(bridge, pid, r.role)];
}

export const listRulesArgv = (bin: string, table: string, chain: string): string[] => [bin, '-w', '-t', table, '-S', chain, '-v'];

/** Splits one `iptables -S` line into argv, honouring the double quotes iptables puts around comments. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] as string));
  return out;
}

export interface GuardRuleSeen {
  bridge: string;
  pid: number;
  role: GuardRole;
  packets: number;
  bytes: number;
  /** The rule as `-A CHAIN …` without its counters: turn into `-D` to delete it. */
  spec: string[];
}

/** `-c PKTS BYTES` of one `iptables -S -v` rule (argv), and the rule without them. */
export function ruleCounters(argv: readonly string[]): { packets: number; bytes: number; rule: string[] } {
  const c = argv.indexOf('-c');
  if (c < 0) return { packets: 0, bytes: 0, rule: [...argv] };
  return { packets: Number(argv[c + 1]), bytes: Number(argv[c + 2]), rule: [...argv.slice(0, c), ...argv.slice(c + 3)] };
}

/** Our rules in `iptables -S CHAIN -v` output, with their counters. */
export function parseGuardRules(listing: string): GuardRuleSeen[] {
  const out: GuardRuleSeen[] = [];
  for (const line of listing.split('\n')) {
    if (!line.startsWith('-A ') || !line.includes(GUARD_TAG + ':')) continue;
    const argv = splitRule(line);
    const ci = argv.indexOf('--comment');
    const m = ci >= 0 ? new RegExp(`^${GUARD_TAG}:([^:]+):(\\d+):(\\w+)$`).exec(argv[ci + 1] ?? '') : null;
    if (!m) continue;
    const { packets, bytes, rule } = ruleCounters(argv);
    out.push({ bridge: m[1] as string, pid: Number(m[2]), role: m[3] as GuardRole, packets, bytes, spec: rule });
  }
  return out;
}

/** Where guard rules live: one listing per (binary, table, chain). */
const CHAINS = [
  ['iptables', 'filter', 'FORWARD'],
  ['iptables', 'raw', 'PREROUTING'],
  ['iptables', 'mangle', 'POSTROUTING'],
  ['ip6tables', 'filter', 'FORWARD'],
] as const;

async function listChain(runner: Runner, bin: string, table: string, chain: string): Promise<GuardRuleSeen[] | undefined> {
  try {
    return parseGuardRules((await runner.run(listRulesArgv(bin, table, chain), { timeoutMs: 15_000, readOnly: true })).stdout);
  } catch (e) {
    if (e instanceof ToolError && e.code === 'TOOL_MISSING' && bin === 'ip6tables') return undefined;
    throw e;
  }
}

type Seen = GuardRuleSeen & { bin: string; table: string };

/** Every guard rule on the host, whoever owns it, as iptables lists it (with counters). */
export async function allGuardRules(runner: Runner): Promise<Seen[]> {
  const out: Seen[] = [];
  for (const [bin, table, chain] of CHAINS) {
    for (const r of (await listChain(runner, bin, table, chain)) ?? []) out.push({ ...r, bin, table });
  }
  return out;
}

const deleteArgv = (r: Seen): string[] => [r.bin, '-w', '-t', r.table, '-D', ...r.spec.slice(1)];

export interface GuardCounters {
  /** Packets forwarded out of the lab and dropped. */
  dropped: number;
  /** Packets addressed outside the lab (whether forwarding is on or off). */
  attempts: number;
  /** Packets with a lab source that left by another interface: must be 0. */
  leaked: number;
}

export interface Guard {
  readonly bridge: string;
  readonly subnet: string;
  counters(): Promise<GuardCounters>;
  /** Removes the rules (idempotent). */
  remove(): Promise<void>;
}

/**
 * Installs the guard for `bridge`; fails (LAB_FAILED) when the firewall cannot
 * take it — a lab without its guard does not start.
 */
export async function installGuard(runner: Runner, t: GuardTarget, log?: Logger): Promise<Guard> {
  const pid = t.pid ?? process.pid;
  const installed: RuleSpec[] = [];
  const remove = async (): Promise<void> => {
    for (const r of installed.splice(0).reverse()) {
      await runner.run(guardRuleArgv('-D', r, t.bridge, pid), { timeoutMs: 15_000 }).catch((e: unknown) => {
        log?.warn('master.guard.remove_failed', { bridge: t.bridge, role: r.role, error: (e as Error).message });
      });
    }
  };
  for (const r of guardRules(t)) {
    try {
      await runner.run(guardRuleArgv('-I', r, t.bridge, pid), { timeoutMs: 15_000 });
      installed.push(r);
    } catch (e) {
      // No IPv6 firewall on this host: nothing IPv6 is forwarded without it either.
      if (r.bin === 'ip6tables' && e instanceof ToolError && e.code === 'TOOL_MISSING') continue;
      await remove();
      throw new ForgeError('LAB_FAILED', `cannot install the containment guard for lab bridge ${t.bridge} (${r.table} ${r.chain}): ${(e as Error).message}`, {
        cause: e,
        command: guardRuleArgv('-I', r, t.bridge, pid),
      });
    }
  }
  log?.info('master.guard.up', { bridge: t.bridge, subnet: t.subnet, rules: installed.map((r) => r.role) });
  return {
    bridge: t.bridge,
    subnet: t.subnet,
    counters: async () => {
      const mine = (await allGuardRules(runner)).filter((r) => r.bridge === t.bridge && r.pid === pid);
      const sum = (...roles: GuardRole[]): number => mine.filter((r) => roles.includes(r.role)).reduce((a, r) => a + r.packets, 0);
      return { dropped: sum('drop', 'drop6'), attempts: sum('attempt'), leaked: sum('leak') };
    },
    remove,
  };
}

/** Deletes guard rules whose owner process is gone; returns how many. */
export async function sweepStaleGuards(runner: Runner, log?: Logger, isAlive: (pid: number) => boolean = processAlive): Promise<number> {
  let n = 0;
  for (const r of await allGuardRules(runner)) {
    if (isAlive(r.pid)) continue;
    await runner.run(deleteArgv(r), { timeoutMs: 15_000 }).then(() => {
      n++;
      log?.warn('master.guard.swept_stale', { bridge: r.bridge, pid: r.pid, role: r.role });
    }, (e: unknown) => log?.warn('master.guard.sweep_failed', { bridge: r.bridge, error: (e as Error).message }));
  }
  return n;
}
