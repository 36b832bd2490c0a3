// Test rig for the containment guard: a stand-in "outside world" that is ours, and
// a probe host on a lab bridge. The outside is a network namespace behind a veth
// with a route for one TEST-NET-2 /24, so a probe packet that escaped the guard
// would land there (and be counted by the namespace's own netfilter), never on
// the host's uplink. The probe is another namespace plugged into the bridge like
// a node's NIC, with a static address outside the DHCP and docker pools.
import { ForgeError } from '../../agent/core/errors.js';
import { ToolError, type Runner } from '../../agent/core/runner.js';
import { ruleCounters, splitRule } from './guard.js';

/** TEST-NET-2: routed to the stand-in outside only. */
export const OUTSIDE_DST = '198.51.100.7';
const OUTSIDE_NET = '198.51.100.0/24';
const T = { timeoutMs: 15_000 };

export interface ProbeNet extends AsyncDisposable {
  /** Packets from `subnet` that reached the stand-in outside. */
  arrivedOutside(): Promise<number>;
  /** Sends `count` UDP datagrams from the probe to dst:port. */
  sendUdp(dst: string, port: number, count: number): Promise<void>;
  /** Tries a TCP connection from the probe; resolves true when it connected. */
  tryTcp(dst: string, port: number, timeoutS: number): Promise<boolean>;
  dispose(): Promise<void>;
}

const nsExec = (ns: string, argv: string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

/**
 * Builds both namespaces for a lab bridge (`subnet` a.b.c.0/24, host at .1) and
 * turns on IPv4 forwarding for packets arriving on that bridge only, so the guard
 * is what stands between the probe and the outside (as on a host that routes).
 */
export async function startProbeNet(runner: Runner, o: { bridge: string; subnet: string; tag?: string }): Promise<ProbeNet> {
  const tag = o.tag ?? String(process.pid % 1e7);
  const outNs = `forge-out-${tag}`;
  const probeNs = `forge-probe-${tag}`;
  const [oh, on, ph, pn] = [`fo${tag}h`, `fo${tag}n`, `fp${tag}h`, `fp${tag}n`];
  const base = o.subnet.replace(/\.0\/24$/, '');
  const fwdKey = `net.ipv4.conf.${o.bridge}.forwarding`;
  const undo: string[][] = [];
  const run = async (argv: string[], then?: string[]): Promise<string> => {
    const r = await runner.run(argv, T);
    if (then) undo.push(then);
    return r.stdout;
  };
  const dispose = async (): Promise<void> => {
    for (const argv of undo.splice(0).reverse()) await runner.run(argv, T).catch(() => undefined);
  };
  try {
    // The stand-in outside: 198.18.0.0/30 link, TEST-NET-2 routed into it.
    await run(['ip', 'netns', 'add', outNs], ['ip', 'netns', 'del', outNs]);
    await run(['ip', 'link', 'add', oh, 'type', 'veth', 'peer', 'name', on], ['ip', 'link', 'del', oh]);
    await run(['ip', 'link', 'set', on, 'netns', outNs]);
    await run(['ip', 'addr', 'add', '198.18.0.1/30', 'dev', oh]);
    await run(['ip', 'link', 'set', oh, 'up']);
    await run(nsExec(outNs, ['ip', 'addr', 'add', '198.18.0.2/30', 'dev', on]));
    await run(nsExec(outNs, ['ip', 'link', 'set', on, 'up']));
    await run(nsExec(outNs, ['ip', 'link', 'set', 'lo', 'up']));
    await run(['ip', 'route', 'add', OUTSIDE_NET, 'via', '198.18.0.2', 'dev', oh], ['ip', 'route', 'del', OUTSIDE_NET, 'via', '198.18.0.2', 'dev', oh]);
    await run(nsExec(outNs, ['iptables', '-w', '-t', 'raw', '-A', 'PREROUTING', '-s', o.subnet, '-m', 'comment', '--comment', 'forge-outside']));
    // Refuse to go on unless TEST-NET-2 really goes into the namespace.
    const route = await run(['ip', '-o', 'route', 'get', OUTSIDE_DST]);
    if (!route.includes(`dev ${oh}`)) throw new ForgeError('LAB_FAILED', `probe net: ${OUTSIDE_DST} is not routed into ${outNs}: ${route.trim()}`);

    // The probe host on the lab bridge.
    await run(['ip', 'netns', 'add', probeNs], ['ip', 'netns', 'del', probeNs]);
    await run(['ip', 'link', 'add', ph, 'type', 'veth', 'peer', 'name', pn], ['ip', 'link', 'del', ph]);
    await run(['ip', 'link', 'set', pn, 'netns', probeNs]);
    await run(['ip', 'link', 'set', ph, 'master', o.bridge]);
    await run(['ip', 'link', 'set', ph, 'up']);
    await run(nsExec(probeNs, ['ip', 'addr', 'add', `${base}.250/24`, 'dev', pn]));
    await run(nsExec(probeNs, ['ip', 'link', 'set', pn, 'up']));
    await run(nsExec(probeNs, ['ip', 'route', 'add', 'default', 'via', `${base}.1`]));

    const before = (await runner.run(['sysctl', '-n', fwdKey], T)).stdout.trim();
    await run(['sysctl', '-q', '-w', `${fwdKey}=1`], ['sysctl', '-q', '-w', `${fwdKey}=${before}`]);
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    arrivedOutside: async () => {
      const listing = (await runner.run(nsExec(outNs, ['iptables', '-w', '-t', 'raw', '-S', 'PREROUTING', '-v']), { ...T, readOnly: true })).stdout;
      const line = listing.split('\n').find((l) => l.startsWith('-A ') && l.includes('forge-outside'));
      if (!line) throw new ForgeError('LAB_FAILED', `probe net: no counter rule in ${outNs}: ${listing}`);
      return ruleCounters(splitRule(line)).packets;
    },
    sendUdp: async (dst, port, count) => {
      for (let i = 0; i < count; i++) {
        await runner.run(nsExec(probeNs, ['socat', '-u', 'STDIN', `UDP4-SENDTO:${dst}:${port}`]), { ...T, input: `forge-probe ${i}\n` });
      }
    },
    tryTcp: async (dst, port, timeoutS) => {
      try {
        await runner.run(nsExec(probeNs, ['socat', '-u', 'STDIN', `TCP4:${dst}:${port},connect-timeout=${timeoutS}`]), { ...T, input: 'x' });
        return true;
      } catch (e) {
        if (e instanceof ToolError) return false;
        throw e;
      }
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
