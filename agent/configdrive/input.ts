// What the configdrive needs from the provision data, taken from the document the
// schema already checked and normalised (ids as text, flags as booleans, name
// server lists split): this module maps, the schema refuses. What is left here are
// the configdrive's own needs (a host name, the admin NIC's MAC, somewhere to call
// back) and the --callback-url override, which is not part of the data.
import { createHash } from 'node:crypto';
import { ForgeError } from '../core/errors.js';
import type { ProvisionData } from '../schema/provision-data.js';
import * as R from '../schema/values.js';

export interface AdminInterface {
  /** Name in the data (eth0); the target matches the NIC by MAC. */
  name: string;
  mac: string;
  mode: 'static' | 'dhcp';
  address?: string;
  netmask?: string;
  /** Prefix length derived from the netmask. */
  prefix?: number;
  gateway?: string;
}

export interface AptRepo {
  name: string;
  /** One sources.list line: `deb uri suite section`. */
  line: string;
  priority?: number;
  suite: string;
  uri: string;
}

export interface UserAccount {
  name: string;
  password?: string;
  homedir?: string;
  sudo: string[];
  sshKeys: string[];
}

export interface ConfigDriveInput {
  uid: string;
  /** Instance UUID: the data's `uuid`, else derived from uid + hostname (stable across re-runs). */
  uuid: string;
  name: string;
  /** Short host name (first label of the FQDN). */
  hostname: string;
  fqdn: string;
  domain: string;
  publicKeys: string[];
  admin?: AdminInterface;
  /** MAC → interface name, from kernel_options.udevrules. */
  nicNames: { mac: string; name: string }[];
  nameServers: string[];
  searchDomains: string[];
  timezone: string;
  repos: AptRepo[];
  masterIp?: string;
  puppet: { master: string; enabled: boolean; autoSetup: boolean };
  mcollective: {
    enabled: boolean;
    autoSetup: boolean;
    host: string;
    user: string;
    password: string;
    vhost: string;
    pskey: string;
    connector: string;
    identity: string;
  };
  users: UserAccount[];
  /** Where first boot reports "provisioned" (see callbackUrl). */
  callbackUrl: string;
  /** Extra files for meta_data.json `files` (path → content). */
  files: { path: string; content: string }[];
}

export { splitQuotedList } from '../schema/values.js';

export function netmaskToPrefix(mask: string, field: string): number {
  const prefix = R.netmaskPrefix(mask);
  if (prefix === undefined) throw new ForgeError('CONFIG_INVALID', `${field}: ${R.netmask(mask) ?? 'not a netmask'}`, { field });
  return prefix;
}

/** Name-based (v5-style) UUID so the instance id is stable for the same node. */
export function stableUuid(seed: string): string {
  const h = createHash('sha1').update(`fuel-forge:${seed}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function pickAdmin(data: ProvisionData): AdminInterface | undefined {
  const chosenMac = data.kernel_options?.['netcfg/choose_interface']?.toLowerCase();
  const entries = Object.entries(data.interfaces ?? {});
  const byMac = chosenMac ? entries.find(([, v]) => v.mac_address?.toLowerCase() === chosenMac) : undefined;
  const found = byMac ?? entries.find(([, v]) => v.ip_address) ?? entries[0];
  if (!found) return undefined;
  const [name, v] = found;
  const mac = v.mac_address?.toLowerCase();
  if (!mac) throw new ForgeError('CONFIG_INVALID', `interfaces.${name}.mac_address: required for the admin interface`, {
    field: `interfaces.${name}.mac_address`,
  });
  const address = v.ip_address;
  const netmask = v.netmask;
  const gateway = data.ks_meta.gw;
  // Fuel marks the admin NIC static:"0" even with an address: the master's DHCP reserves it.
  if (v.static && address && netmask) {
    return {
      name, mac, mode: 'static', address, netmask,
      prefix: netmaskToPrefix(netmask, `interfaces.${name}.netmask`),
      ...(gateway ? { gateway } : {}),
    };
  }
  return { name, mac, mode: 'dhcp', ...(address ? { address } : {}), ...(netmask ? { netmask } : {}) };
}

type Ks = ProvisionData['ks_meta'];

function repos(ks: Ks): AptRepo[] {
  return (ks.repo_setup?.repos ?? []).map((r) => {
    const line = [r.type ?? 'deb', r.uri, r.suite, r.section ?? ''].filter(Boolean).join(' ');
    const priority = typeof r.priority === 'number' ? r.priority : undefined;
    return { name: r.name, line, suite: r.suite, uri: r.uri, ...(priority === undefined ? {} : { priority }) };
  });
}

function users(ks: Ks): UserAccount[] {
  return (ks.user_accounts ?? []).map((u) => ({
    name: u.name,
    sudo: u.sudo ?? [],
    sshKeys: (u.ssh_keys ?? []).filter(Boolean),
    ...(u.password === undefined ? {} : { password: u.password }),
    ...(u.homedir === undefined ? {} : { homedir: u.homedir }),
  }));
}

/**
 * The call-back URL, first match wins: explicit override, the data's
 * `ks_meta.callback_url`, else derived from the master: Nailgun listens on 8000.
 */
export function callbackUrl(data: ProvisionData, override?: string): string {
  const ks = data.ks_meta;
  const uid = encodeURIComponent(data.uid ?? '');
  if (override) {
    // The override is an option, not data: the schema never saw it.
    const url = override.replaceAll('{uid}', uid);
    const why = R.hasLoneSurrogate(override) ? 'holds a lone UTF-16 surrogate' : R.httpUrl(url);
    if (why) throw new ForgeError('CONFIG_INVALID', `callback-url: ${why}`, { field: 'callback-url' });
    return url;
  }
  if (ks.callback_url) return ks.callback_url.replaceAll('{uid}', uid);
  const master = ks.master_ip;
  if (!master) {
    throw new ForgeError('CONFIG_INVALID', 'ks_meta.master_ip: required to derive the provisioned call-back URL', {
      field: 'ks_meta.master_ip',
    });
  }
  const host = master.includes(':') ? `[${master}]` : master;
  return `http://${host}:8000/api/v1/nodes/${uid}/provisioned`;
}

export interface InputOptions {
  /** Override the call-back URL (`--callback-url`); `{uid}` is substituted. */
  callbackUrl?: string;
}

export function configDriveInputFrom(data: ProvisionData, opts: InputOptions = {}): ConfigDriveInput {
  const ks = data.ks_meta;
  const fqdn = data.hostname;
  if (!fqdn) throw new ForgeError('CONFIG_INVALID', 'hostname: required for the configdrive', { field: 'hostname' });
  const [hostname = fqdn, ...rest] = fqdn.split('.');
  const uid = data.uid ?? '';
  const keys = (ks.authorized_keys ?? []).map((k) => k.trim()).filter(Boolean);
  const nameServers = R.splitQuotedList(data.name_servers);
  const search = R.splitQuotedList(data.name_servers_search);
  const masterIp = ks.master_ip;
  const admin = pickAdmin(data);
  return {
    uid,
    uuid: data.uuid ?? stableUuid(`${uid}:${fqdn}`),
    name: data.name ?? data.slave_name ?? hostname,
    hostname,
    fqdn,
    domain: rest.join('.') || (search[0] ?? ''),
    publicKeys: [...new Set(keys)],
    ...(admin ? { admin } : {}),
    // The schema refused a malformed entry; a dropped rule would leave a NIC unpinned.
    nicNames: R.parseUdevRules(data.kernel_options?.udevrules ?? '').rules,
    nameServers,
    searchDomains: search.length ? search : rest.length ? [rest.join('.')] : [],
    timezone: ks.timezone ?? 'UTC',
    repos: repos(ks),
    ...(masterIp ? { masterIp } : {}),
    puppet: {
      master: ks.puppet_master ?? masterIp ?? '',
      enabled: ks.puppet_enable,
      autoSetup: ks.puppet_auto_setup,
    },
    mcollective: {
      enabled: ks.mco_enable,
      autoSetup: ks.mco_auto_setup,
      host: ks.mco_host ?? masterIp ?? '',
      user: ks.mco_user ?? 'mcollective',
      password: ks.mco_password ?? '',
      vhost: ks.mco_vhost ?? 'mcollective',
      pskey: ks.mco_pskey ?? 'unset',
      connector: ks.mco_connector ?? 'rabbitmq',
      // -1 means "use the node id", as Fuel's templates did.
      identity: ks.mco_identity && ks.mco_identity !== '-1' ? ks.mco_identity : uid || hostname,
    },
    users: users(ks),
    callbackUrl: callbackUrl(data, opts.callbackUrl),
    files: (ks.configdrive_files ?? []).map((f) => ({ path: f.path, content: f.content ?? '' })),
  };
}
