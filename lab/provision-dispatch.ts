// Astute's provisioning entry point: Nailgun queues one message per provisioning
// request (`image_provision` or `native_provision`, the cluster's choice), and the
// orchestrator takes it, checks it is something it can act on, and runs each
// node through the branch the method names. The image branch is the lab's agent
// flow (orchestrator.ts); the classic branch hands the node to Cobbler's
// installer profile (native-provision.ts). Both end at the node's first-boot call-back.
import { ForgeError } from '../agent/core/errors.js';
import type { StartedNailgun } from './mocks/nailgun.js';
import type { ProvisionNodeEntry, ProvisionRpc } from './mocks/provision-rpc.js';

export interface ProvisionBranches<T> {
  image(entry: ProvisionNodeEntry, msg: ProvisionRpc): Promise<T>;
  native(entry: ProvisionNodeEntry, msg: ProvisionRpc): Promise<T>;
}

/** Asks Nailgun to provision nodes, as its UI/CLI does (PUT /api/clusters/1/provision?nodes=…). */
export async function requestProvision(nailgun: StartedNailgun, ids: readonly number[]): Promise<string> {
  const res = await fetch(`${nailgun.url}/api/clusters/${nailgun.cluster.id}/provision/?nodes=${ids.join(',')}`, { method: 'PUT' });
  const body = (await res.json().catch(() => ({}))) as { uuid?: string; error?: string };
  if (res.status !== 202 || !body.uuid) throw new ForgeError('LAB_FAILED', `Nailgun refused to provision nodes ${ids.join(',')}: HTTP ${res.status} ${body.error ?? ''}`.trim());
  return body.uuid;
}

/**
 * What each branch needs from the message: image mode must carry every node's
 * image_data (the agent has nothing to write otherwise); classic mode must not
 * (the installer never reads it, and a stale one would mislead whoever reads the
 * node's data later).
 */
export function checkProvisionRpc(msg: ProvisionRpc): void {
  msg.args.provisioning_info.nodes.forEach((n, i) => {
    const has = n.ks_meta.image_data !== undefined && n.ks_meta.image_data !== null;
    const field = `args.provisioning_info.nodes[${i}].ks_meta.image_data`;
    if (msg.method === 'image_provision' && !has) throw new ForgeError('CONFIG_INVALID', `image_provision: node ${n.uid} has no image_data`, { field });
    if (msg.method === 'native_provision' && has) throw new ForgeError('CONFIG_INVALID', `native_provision: node ${n.uid} carries image_data (classic nodes install from the installer)`, { field });
  });
}

/** Runs every node of the message through its method's branch, in parallel as Astute does. */
export async function dispatchProvision<T>(msg: ProvisionRpc, branches: ProvisionBranches<T>): Promise<T[]> {
  checkProvisionRpc(msg);
  const run = msg.method === 'image_provision' ? branches.image : branches.native;
  return Promise.all(msg.args.provisioning_info.nodes.map((n) => run(n, msg)));
}
