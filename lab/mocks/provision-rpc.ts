// Nailgun's provisioning message to Astute (pure). A cluster chooses the method
// with its `provision.method` attribute: `image` (fuel-agent / our agent, from
// the bootstrap) or `cobbler` (classic: debian-installer with a preseed Cobbler
// renders). Both get the same `provisioning_info` — the Cobbler engine and, per
// node, everything Cobbler's system holds (profile, power, interfaces, kernel
// options, ks_meta) — under a different RPC method; only image mode carries
// `ks_meta.image_data`, and the pre_provision tasks differ (build the image vs
// put the installer's kernel and initrd in place).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ForgeError } from '../../agent/core/errors.js';

export const PROVISION_METHODS = ['image', 'cobbler'] as const;
export type ProvisionMethod = (typeof PROVISION_METHODS)[number];

/** What Nailgun's release says about profiles: Cobbler's names for the bootstrap and the OS installer. */
export interface ReleaseProfiles {
  /** The ramdisk with the agent (Fuel 6.1: `bootstrap`; ours since issue 15: `bootstrap-2`). */
  bootstrap: string;
  /** The distribution's installer profile (Fuel: `ubuntu_1404_x86_64`; ours: Debian 12). */
  os: string;
}

export const DEFAULT_PROFILES: ReleaseProfiles = { bootstrap: 'bootstrap-2', os: 'debian12-x86_64' };

export interface CobblerEngine {
  url: string;
  username: string;
  password: string;
  master_ip: string;
}

export type RpcMethod = 'image_provision' | 'native_provision';

export const rpcMethodFor = (m: ProvisionMethod): RpcMethod => (m === 'image' ? 'image_provision' : 'native_provision');

type Doc = Record<string, unknown>;

const nodeEntry = z.looseObject({
  uid: z.string().min(1),
  hostname: z.string().min(1),
  name: z.string().min(1),
  profile: z.string().min(1),
  netboot_enabled: z.string(),
  power_type: z.string(),
  kernel_options: z.record(z.string(), z.string()),
  interfaces: z.record(z.string(), z.looseObject({ mac_address: z.string() })),
  ks_meta: z.looseObject({ pm_data: z.looseObject({ ks_spaces: z.array(z.unknown()) }), image_data: z.unknown().optional() }),
});
export type ProvisionNodeEntry = z.output<typeof nodeEntry>;

export const provisionRpc = z.object({
  api_version: z.literal('1'),
  method: z.enum(['image_provision', 'native_provision']),
  respond_to: z.literal('provision_resp'),
  args: z.object({
    task_uuid: z.string(),
    provisioning_info: z.object({
      engine: z.object({ url: z.string(), username: z.string(), password: z.string(), master_ip: z.string() }),
      nodes: z.array(nodeEntry).min(1),
      pre_provision: z.array(z.looseObject({ type: z.string(), uids: z.array(z.string()), parameters: z.record(z.string(), z.unknown()) })),
    }),
  }),
});
export type ProvisionRpc = z.output<typeof provisionRpc>;

/**
 * One node's entry: the node's serialized data (the same document the image
 * agent reads as provision.json) with the profile and netboot Cobbler needs;
 * image_data removed in classic mode — the installer never reads it.
 */
export function serializeNode(data: Doc, method: ProvisionMethod, profiles: ReleaseProfiles): Doc {
  const entry = structuredClone(data);
  const ks = { ...((entry['ks_meta'] as Doc | undefined) ?? {}) };
  if (method === 'cobbler') delete ks['image_data'];
  entry['ks_meta'] = ks;
  entry['profile'] = method === 'image' ? profiles.bootstrap : profiles.os;
  entry['netboot_enabled'] = '1';
  entry['power_type'] ??= 'ssh';
  entry['kernel_options'] ??= {};
  return entry;
}

/** Astute's provisioning message for these nodes: same info, the RPC method by the cluster's attribute. */
export function provisionMessage(o: { method: ProvisionMethod; engine: CobblerEngine; profiles: ReleaseProfiles; nodes: Doc[]; taskUuid?: string }): ProvisionRpc {
  if (o.nodes.length === 0) throw new ForgeError('USAGE', 'provision: no nodes given', { field: 'nodes' });
  const nodes = o.nodes.map((d) => serializeNode(d, o.method, o.profiles));
  const uids = nodes.map((n) => String(n['uid']));
  const pre =
    o.method === 'image'
      ? [{ type: 'build_image', uids, parameters: { images: nodes.map((n) => (n['ks_meta'] as Doc)['image_data'] ?? null) } }]
      : [{ type: 'installer_files', uids, parameters: { profile: o.profiles.os, files: ['linux', 'initrd.gz'] } }];
  const msg = {
    api_version: '1',
    method: rpcMethodFor(o.method),
    respond_to: 'provision_resp',
    args: { task_uuid: o.taskUuid ?? randomUUID(), provisioning_info: { engine: o.engine, nodes, pre_provision: pre } },
  };
  // Validated as Astute would: a message it cannot act on fails here, naming the field.
  const r = provisionRpc.safeParse(msg);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ForgeError('CONFIG_INVALID', `provisioning message: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, { field: issue?.path.join('.') ?? '' });
  }
  return r.data;
}
