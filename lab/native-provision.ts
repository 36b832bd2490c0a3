// Astute's classic branch (native_provision): the node's Cobbler system gets the
// OS installer profile and everything provisioning_info holds for it (ks_meta,
// kernel options, power, name servers), Cobbler syncs — rendering the node's
// preseed — and the node is power-cycled into debian-installer. The installer's
// last late command calls Cobbler's nopxe (netboot off) and the installer
// reboots the node into its disk; cloud-init's first boot calls back as in
// image mode. Astute follows: netboot turned off = installed, call-back = provisioned.
import { ForgeError } from '../agent/core/errors.js';
import type { XmlRpcValue } from './mocks/xmlrpc.js';
import type { MockNode } from './mocks/nailgun.js';
import type { ProvisionNodeEntry } from './mocks/provision-rpc.js';
import { putNode, timeoutsOf, waitForFirstBoot, type OrchestratedNode, type OrchestratorEnv } from './orchestrator.js';
import { pollUntil } from './vm/wait.js';

/** Fields of a node entry Cobbler keeps as they are (the template may read them); the rest are set explicitly. */
const EXPLICIT = new Set(['name', 'hostname', 'profile', 'netboot_enabled', 'kernel_options', 'interfaces', 'uid']);

export function systemFields(entry: ProvisionNodeEntry): Record<string, XmlRpcValue> {
  const out: Record<string, XmlRpcValue> = {};
  for (const [k, v] of Object.entries(entry)) if (!EXPLICIT.has(k) && v !== undefined) out[k] = v as XmlRpcValue;
  out['uid'] = entry.uid;
  return out;
}

export interface NativeOutcome {
  /** The first-boot call-back's body. */
  firstBoot: unknown;
}

/**
 * One node through the classic method. `installerFailed` lets the lab fail fast
 * when it sees the installer give up (e.g. on its serial console) instead of
 * waiting out the install timeout.
 */
export async function nativeProvision(
  env: OrchestratorEnv,
  n: OrchestratedNode,
  node: MockNode,
  entry: ProvisionNodeEntry,
  o: { installerFailed?: () => string | undefined } = {},
): Promise<NativeOutcome> {
  const to = timeoutsOf(env);
  const macs = Object.fromEntries(Object.entries(entry.interfaces).map(([i, v]) => [i, v.mac_address]));
  const before = node.provisioned.length;
  try {
    await env.stages.run(`${n.name}: cobbler system → ${entry.profile} + sync`, to.register, async () => {
      await env.cobbler.login();
      await env.cobbler.upsertSystem({
        name: n.name, hostname: entry.hostname, profile: entry.profile, netbootEnabled: true, macs,
        kernelOptions: entry.kernel_options, fields: systemFields(entry),
      });
      await env.cobbler.sync();
    });
    await putNode(env.nailgun, node.id, { status: 'provisioning', progress: 0 });
    await env.stages.run(`${n.name}: reboot into the installer`, to.register, () => env.cobbler.power(n.name, 'reboot'));
    await env.stages.run(`${n.name}: install (debian-installer)`, to.install, (signal) =>
      pollUntil(`nopxe from ${n.name}'s installer`, async () => {
        const failed = o.installerFailed?.();
        if (failed) throw new ForgeError('LAB_FAILED', `${n.name}: debian-installer failed: ${failed}`);
        const sys = await env.cobbler.getSystem(n.name);
        return sys && sys['netboot_enabled'] === false ? true : undefined;
      }, { timeoutMs: to.install, signal, pollMs: 2000 }));
  } catch (e) {
    // As Astute: the node's error names the cause; netboot stays on (the node returns to the installer or bootstrap).
    await putNode(env.nailgun, node.id, { status: 'error', error_type: 'provision', error_msg: (e instanceof Error ? e.message : String(e)).slice(0, 500) });
    const tail = env.serialTail?.(n.name);
    if (e instanceof Error && tail) e.message += `\n--- ${n.name} serial console (tail) ---\n${tail}`;
    throw e;
  }
  await putNode(env.nailgun, node.id, { progress: 90 });
  return { firstBoot: await waitForFirstBoot(env, n, node, before) };
}
