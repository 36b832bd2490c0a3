// What the configdrive needs from the Nailgun provision data, read defensively
// from the (already validated) document so this module depends on field names,
// not on the schema module's exact types. One function, one normalized shape.
import { createHash } from 'node:crypto';
import { ForgeError } from '../core/errors.js';
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

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Nailgun sends booleans as 1/0, "1"/"0", "yes"/"no" or true/false. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return ['1', 'yes', 'true', 'on'].includes(v.trim().toLowerCase());
  return false;
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

/** The value, or a CONFIG_INVALID naming `field` with the rule's reason (the schema checked most already). */
function ruled(rule: R.Rule, v: string, field: string): string {
  const why = rule(v);
  if (why) throw new ForgeError('CONFIG_INVALID', `${field}: ${why}`, { field });
  return v;
}

// Values land in ini-style files, shell assignments and YAML scalars: any line break would inject lines.
const oneLine = (v: string, field: string): string => ruled(R.singleLine, v, field);

function pickAdmin(data: Obj, ks: Obj): AdminInterface | undefined {
  const ifaces = isObj(data.interfaces) ? data.interfaces : {};
  const kopts = isObj(data.kernel_options) ? data.kernel_options : {};
  const chosenMac = str(kopts['netcfg/choose_interface'])?.toLowerCase();
  const entries = Object.entries(ifaces).filter((e): e is [string, Obj] => isObj(e[1]));
  const byMac = chosenMac ? entries.find(([, v]) => str(v.mac_address)?.toLowerCase() === chosenMac) : undefined;
  const found = byMac ?? entries.find(([, v]) => str(v.ip_address)) ?? entries[0];
  if (!found) return undefined;
  const [name, v] = found;
  const mac = str(v.mac_address)?.toLowerCase();
  if (mac) ruled(R.mac, mac, `interfaces.${name}.mac_address`);
  ruled(R.interfaceName, name, `interfaces.${name}`);
  if (!mac) throw new ForgeError('CONFIG_INVALID', `interfaces.${name}.mac_address: required for the admin interface`, {
    field: `interfaces.${name}.mac_address`,
  });
  const address = str(v.ip_address);
  const netmask = str(v.netmask);
  const gateway = str(ks.gw);
  if (address) ruled(R.ipAddress, address, `interfaces.${name}.ip_address`);
  if (gateway) ruled(R.ipAddress, gateway, 'ks_meta.gw');
  // Fuel marks the admin NIC static:"0" even with an address: the master's DHCP reserves it.
  if (truthy(v.static) && address && netmask) {
    return {
      name, mac, mode: 'static', address, netmask,
      prefix: netmaskToPrefix(netmask, `interfaces.${name}.netmask`),
      ...(gateway ? { gateway } : {}),
    };
  }
  return { name, mac, mode: 'dhcp', ...(address ? { address } : {}), ...(netmask ? { netmask } : {}) };
}

function nicNames(data: Obj): { mac: string; name: string }[] {
  const kopts = isObj(data.kernel_options) ? data.kernel_options : {};
  // A malformed entry is an error, never dropped: a dropped rule leaves a NIC unpinned.
  const r = R.parseUdevRules(str(kopts.udevrules) ?? '');
  if (r.problem) throw new ForgeError('CONFIG_INVALID', `kernel_options.udevrules: ${r.problem}`, { field: 'kernel_options.udevrules' });
  return r.rules;
}

function repos(ks: Obj): AptRepo[] {
  const setup = isObj(ks.repo_setup) ? ks.repo_setup : {};
  const list = Array.isArray(setup.repos) ? setup.repos : [];
  const seenRepos = new Set<string>();
  return list.filter(isObj).map((r, i) => {
    const f = `ks_meta.repo_setup.repos[${i}]`;
    const name = str(r.name);
    const uri = str(r.uri);
    const suite = str(r.suite);
    if (!name) throw new ForgeError('CONFIG_INVALID', `${f}.name: required`, { field: `${f}.name` });
    if (!uri) throw new ForgeError('CONFIG_INVALID', `${f}.uri: required`, { field: `${f}.uri` });
    if (!suite) throw new ForgeError('CONFIG_INVALID', `${f}.suite: required`, { field: `${f}.suite` });
    ruled(R.repoName, name, `${f}.name`);
    ruled(R.aptUri, uri, `${f}.uri`);
    ruled(R.aptSuite, suite, `${f}.suite`);
    const type = ruled(R.aptType, str(r.type) ?? 'deb', `${f}.type`);
    const section = ruled(R.aptSections, str(r.section) ?? '', `${f}.section`);
    if (seenRepos.has(name)) throw new ForgeError('CONFIG_INVALID', `${f}.name: a second repository named ${name}`, { field: `${f}.name` });
    seenRepos.add(name);
    const line = oneLine([type, uri, suite, section].filter(Boolean).join(' '), f);
    const priority = typeof r.priority === 'number' ? r.priority : undefined;
    return { name, line, suite, uri, ...(priority === undefined ? {} : { priority }) };
  });
}

function users(ks: Obj): UserAccount[] {
  const list = Array.isArray(ks.user_accounts) ? ks.user_accounts : [];
  return list.filter(isObj).flatMap((u, i) => {
    const name = str(u.name);
    if (!name) return [];
    const f = `ks_meta.user_accounts[${i}]`;
    ruled(R.userName, name, `${f}.name`);
    const password = str(u.password);
    const homedir = str(u.homedir);
    if (homedir !== undefined) ruled(R.absolutePath, homedir, `${f}.homedir`);
    return [{
      name,
      sudo: (Array.isArray(u.sudo) ? u.sudo : []).map((s, j) => ruled(R.sudoRule, str(s) ?? '', `${f}.sudo[${j}]`)),
      sshKeys: (Array.isArray(u.ssh_keys) ? u.ssh_keys : []).map((s, j) => oneLine(str(s) ?? '', `${f}.ssh_keys[${j}]`)).filter(Boolean),
      ...(password === undefined ? {} : { password: oneLine(password, `${f}.password`) }),
      ...(homedir === undefined ? {} : { homedir }),
    }];
  });
}

/**
 * The call-back URL, first match wins: explicit override, the data's
 * `ks_meta.callback_url`, else derived from the master: Nailgun listens on 8000.
 */
export function callbackUrl(data: Obj, override?: string): string {
  const ks = isObj(data.ks_meta) ? data.ks_meta : {};
  const uid = str(data.uid) ?? '';
  const chosen = override ?? str(ks.callback_url);
  if (chosen) return ruled(R.httpUrl, chosen.replaceAll('{uid}', encodeURIComponent(uid)), override === undefined ? 'ks_meta.callback_url' : 'callback-url');
  const master = str(ks.master_ip);
  if (!master) {
    throw new ForgeError('CONFIG_INVALID', 'ks_meta.master_ip: required to derive the provisioned call-back URL', {
      field: 'ks_meta.master_ip',
    });
  }
  ruled(R.hostOrIp, master, 'ks_meta.master_ip');
  const host = master.includes(':') ? `[${master}]` : master;
  return ruled(R.httpUrl, `http://${host}:8000/api/v1/nodes/${encodeURIComponent(uid)}/provisioned`, 'ks_meta.master_ip');
}

export interface InputOptions {
  /** Override the call-back URL (`--callback-url`); `{uid}` is substituted. */
  callbackUrl?: string;
}

export function configDriveInputFrom(doc: unknown, opts: InputOptions = {}): ConfigDriveInput {
  if (!isObj(doc)) throw new ForgeError('CONFIG_INVALID', 'provision data: expected an object', { field: '' });
  const ks = isObj(doc.ks_meta) ? doc.ks_meta : {};
  const fqdn = str(doc.hostname);
  if (!fqdn) throw new ForgeError('CONFIG_INVALID', 'hostname: required for the configdrive', { field: 'hostname' });
  ruled(R.hostname, fqdn, 'hostname');
  const [hostname = fqdn, ...rest] = fqdn.split('.');
  const uid = str(doc.uid) ?? '';
  if (uid) ruled(R.uid, uid, 'uid');
  const name = str(doc.name) ?? str(doc.slave_name) ?? hostname;
  const keys = (Array.isArray(ks.authorized_keys) ? ks.authorized_keys : [])
    .map((k, i) => oneLine(str(k) ?? '', `ks_meta.authorized_keys[${i}]`).trim())
    .filter(Boolean);
  const nameServers = R.splitQuotedList(doc.name_servers);
  const search = R.splitQuotedList(doc.name_servers_search);
  const masterIp = str(ks.master_ip);
  const mcoIdentity = str(ks.mco_identity);
  const admin = pickAdmin(doc, ks);
  const s = (v: unknown, field: string, dflt = ''): string => oneLine(str(v) ?? dflt, field);
  const files = (Array.isArray(ks.configdrive_files) ? ks.configdrive_files : []).filter(isObj).map((f, i) => {
    const path = str(f.path);
    if (!path) {
      throw new ForgeError('CONFIG_INVALID', `ks_meta.configdrive_files[${i}].path: absolute path required`, {
        field: `ks_meta.configdrive_files[${i}].path`,
      });
    }
    ruled(R.absolutePath, path, `ks_meta.configdrive_files[${i}].path`);
    return { path, content: str(f.content) ?? '' };
  });
  return {
    uid,
    uuid: str(doc.uuid) ?? stableUuid(`${uid}:${fqdn}`),
    name,
    hostname,
    fqdn,
    domain: rest.join('.') || (search[0] ?? ''),
    publicKeys: [...new Set(keys)],
    ...(admin ? { admin } : {}),
    nicNames: nicNames(doc),
    nameServers,
    searchDomains: search.length ? search : rest.length ? [rest.join('.')] : [],
    timezone: s(ks.timezone, 'ks_meta.timezone', 'UTC'),
    repos: repos(ks),
    ...(masterIp ? { masterIp } : {}),
    puppet: {
      master: s(ks.puppet_master, 'ks_meta.puppet_master', masterIp ?? ''),
      enabled: truthy(ks.puppet_enable),
      autoSetup: ks.puppet_auto_setup === undefined ? true : truthy(ks.puppet_auto_setup),
    },
    mcollective: {
      enabled: truthy(ks.mco_enable),
      autoSetup: ks.mco_auto_setup === undefined ? true : truthy(ks.mco_auto_setup),
      host: s(ks.mco_host, 'ks_meta.mco_host', masterIp ?? ''),
      user: s(ks.mco_user, 'ks_meta.mco_user', 'mcollective'),
      password: s(ks.mco_password, 'ks_meta.mco_password'),
      vhost: s(ks.mco_vhost, 'ks_meta.mco_vhost', 'mcollective'),
      pskey: s(ks.mco_pskey, 'ks_meta.mco_pskey', 'unset'),
      connector: s(ks.mco_connector, 'ks_meta.mco_connector', 'rabbitmq'),
      // -1 means "use the node id", as Fuel's templates did.
      identity: mcoIdentity && mcoIdentity !== '-1' ? oneLine(mcoIdentity, 'ks_meta.mco_identity') : uid || hostname,
    },
    users: users(ks),
    callbackUrl: oneLine(callbackUrl(doc, opts.callbackUrl), 'callback_url'),
    files,
  };
}
