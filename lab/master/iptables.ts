// iptables argv for the master bridge. With br_netfilter loaded
// (bridge-nf-call-iptables = 1) frames bridged between taps and containers pass
// the FORWARD chain; a DROP policy there (left by a docker started with its
// iptables management on) would silently cut DHCP/TFTP between guests and dnsmasq.
import { ToolError, type Runner } from '../../agent/core/runner.js';

export const forwardListArgv = (): string[] => ['iptables', '-S', 'FORWARD'];
export const bridgeAcceptArgv = (op: '-I' | '-D', bridge: string): string[] =>
  ['iptables', op, 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'];

/** The FORWARD policy from `iptables -S FORWARD`, e.g. ACCEPT or DROP. */
export function parseForwardPolicy(listing: string): string | undefined {
  return /^-P FORWARD (\S+)/m.exec(listing)?.[1];
}

/**
 * Lets bridged traffic on `bridge` through when FORWARD would drop it; returns
 * the release (undefined when nothing was changed: no iptables, or policy ACCEPT).
 */
export async function allowBridgeForwarding(runner: Runner, bridge: string): Promise<(() => Promise<void>) | undefined> {
  let listing: string;
  try {
    listing = (await runner.run(forwardListArgv(), { timeoutMs: 15_000, readOnly: true })).stdout;
  } catch (e) {
    // No iptables binary (or no netfilter): nothing can drop the frames.
    if (e instanceof ToolError && e.code === 'TOOL_MISSING') return undefined;
    throw e;
  }
  if (parseForwardPolicy(listing) === 'ACCEPT') return undefined;
  await runner.run(bridgeAcceptArgv('-I', bridge), { timeoutMs: 15_000 });
  return async () => {
    await runner.run(bridgeAcceptArgv('-D', bridge), { timeoutMs: 15_000 });
  };
}
