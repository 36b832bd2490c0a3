// Builds the configdrive's contents (pure: data in, files out). Layout:
//   openstack/latest/{meta_data.json,user_data,network_data.json}  ConfigDrive v2
//   openstack/content/NNNN                                          meta_data `files`
//   meta-data, user-data, network-config                            NoCloud seed
// Every YAML file goes through toCloudYaml (yaml11.ts): cloud-init reads them with
// PyYAML's YAML 1.1 rules, where an unquoted `yes` or `52:54:00:12:34:56` is no string.
import { ForgeError } from '../core/errors.js';
import type { ProvisionData } from '../schema/provision-data.js';
import { sudoersLine } from './sudoers-check.js';
import { configDriveInputFrom, type ConfigDriveInput, type InputOptions } from './input.js';
import { buildMultipart, type MimePart } from './mime.js';
import { loadDataTemplate, loadTemplate, renderData, renderText, templatesDir, type TextVars } from './templates.js';
import { toCloudYaml } from './yaml11.js';

export interface ConfigDriveContents {
  input: ConfigDriveInput;
  /** Relative path → file content, in a stable order. */
  files: Map<string, string>;
  /** The rendered cloud-config document (also the first MIME part). */
  cloudConfig: string;
  parts: MimePart[];
}

interface FileSpec {
  path: string;
  template: string;
  permissions?: string;
  when?: string;
}

function yesNo(b: boolean): 'yes' | 'no' {
  return b ? 'yes' : 'no';
}

function textVars(i: ConfigDriveInput): Record<string, string> {
  // Names and MACs passed the schema's interfaceName and mac rules.
  const udev = i.nicNames.map((n) => `SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="${n.mac}", NAME="${n.name}"`);
  return {
    uid: i.uid,
    uuid: i.uuid,
    hostname: i.hostname,
    fqdn: i.fqdn,
    domain: i.domain,
    timezone: i.timezone,
    host_ip: i.admin?.address ?? '127.0.1.1',
    search_domains: i.searchDomains.join(' '),
    nameserver_lines: i.nameServers.map((n) => `nameserver ${n}`).join('\n'),
    puppet_master: i.puppet.master,
    puppet_enable_yes_no: yesNo(i.puppet.enabled),
    mco_enable_yes_no: yesNo(i.mcollective.enabled),
    mco_identity: i.mcollective.identity,
    mco_host: i.mcollective.host,
    mco_user: i.mcollective.user,
    mco_password: i.mcollective.password,
    mco_vhost: i.mcollective.vhost,
    mco_pskey: i.mcollective.pskey,
    mco_connector: i.mcollective.connector,
    callback_url: i.callbackUrl,
    report_config_json: JSON.stringify({ uid: i.uid, hostname: i.fqdn, callback_url: i.callbackUrl }, null, 2),
    udev_rules: udev.length ? udev.join('\n') : '# no kernel_options.udevrules in the provisioning data',
  };
}

function flags(i: ConfigDriveInput): Record<string, boolean> {
  return {
    has_name_servers: i.nameServers.length > 0,
    puppet_auto_setup: i.puppet.autoSetup,
    mco_auto_setup: i.mcollective.autoSetup,
  };
}

function writeFiles(i: ConfigDriveInput, vars: TextVars, dir: string): Record<string, unknown>[] {
  const specs = loadDataTemplate('files.yaml', dir);
  if (!Array.isArray(specs)) throw new ForgeError('CONFIGDRIVE_FAILED', 'files.yaml: expected a list');
  const f = flags(i);
  const out: Record<string, unknown>[] = [];
  for (const s of specs as FileSpec[]) {
    if (s.when !== undefined) {
      if (!(s.when in f)) throw new ForgeError('CONFIGDRIVE_FAILED', `files.yaml: unknown condition ${s.when}`);
      if (!f[s.when]) continue;
    }
    out.push({
      path: s.path,
      content: renderText(loadTemplate(s.template, dir), vars, s.template),
      owner: 'root:root',
      permissions: s.permissions ?? '0644',
    });
  }
  // sudo rules go to sudoers.d: cloud-init's schema takes one rule per user, Fuel's data a list.
  for (const u of i.users.filter((x) => x.name !== 'root' && x.sudo.length)) {
    out.push({
      path: `/etc/sudoers.d/90-fuel-${u.name}`,
      content: u.sudo.map((rule) => sudoersLine(u.name, rule)).join('\n') + '\n',
      owner: 'root:root',
      permissions: '0440',
    });
  }
  const prefTpl = loadTemplate('apt-preferences.tmpl', dir);
  for (const r of i.repos) {
    if (r.priority === undefined) continue;
    out.push({
      path: `/etc/apt/preferences.d/fuel-${r.name}.pref`,
      content: renderText(prefTpl, { repo_name: r.name, repo_suite: r.suite, repo_priority: String(r.priority) }, 'apt-preferences.tmpl'),
      owner: 'root:root',
      permissions: '0644',
    });
  }
  return out;
}

/** Structured values for `{{=name}}` in cloud-config.yaml. */
function dataVars(i: ConfigDriveInput, vars: TextVars, dir: string): Record<string, unknown> {
  const root = i.users.find((u) => u.name === 'root');
  const others = i.users.filter((u) => u.name !== 'root');
  const users = others.map((u) => ({
    name: u.name,
    ...(u.homedir ? { homedir: u.homedir } : {}),
    shell: '/bin/bash',
    lock_passwd: u.password === undefined,
    ...(u.password === undefined ? {} : { plain_text_passwd: u.password }),
    ...(u.sshKeys.length ? { ssh_authorized_keys: u.sshKeys } : {}),
  }));
  const sources: Record<string, unknown> = {};
  for (const r of i.repos) sources[`fuel-${r.name}.list`] = { source: r.line };
  return {
    public_keys: [...new Set([...i.publicKeys, ...(root?.sshKeys ?? [])])],
    // No distro default user: Fuel nodes are administered as root and the listed accounts.
    // (an empty object, not [], which cloud-init's schema rejects as too short)
    users: users.length ? users : {},
    chpasswd: root?.password === undefined
      ? null
      : { expire: false, users: [{ name: 'root', password: root.password, type: 'text' }] },
    apt_sources: Object.keys(sources).length ? sources : null,
    write_files: writeFiles(i, vars, dir),
  };
}

export function renderCloudConfig(i: ConfigDriveInput, dir: string = templatesDir()): string {
  const vars = textVars(i);
  const tpl = loadDataTemplate('cloud-config.yaml', dir);
  const doc = renderData(tpl, vars, dataVars(i, vars, dir), 'cloud-config.yaml');
  return `#cloud-config\n${toCloudYaml(doc)}`;
}

/** OpenStack network_data.json: the admin NIC by MAC, static or DHCP, plus DNS. */
export function networkData(i: ConfigDriveInput): Record<string, unknown> {
  const a = i.admin;
  const links = a ? [{ id: a.name, type: 'phy', ethernet_mac_address: a.mac, mtu: null }] : [];
  const networks = !a
    ? []
    : a.mode === 'static'
      ? [{
          id: `${a.name}-admin`, link: a.name, type: 'ipv4', ip_address: a.address, netmask: a.netmask,
          routes: a.gateway ? [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: a.gateway }] : [],
          network_id: 'admin',
        }]
      : [{ id: `${a.name}-admin`, link: a.name, type: 'ipv4_dhcp', network_id: 'admin' }];
  const services = i.nameServers.map((n) => ({ type: 'dns', address: n }));
  return { links, networks, services };
}

/** NoCloud network-config (version 1): same facts as network_data.json. */
export function noCloudNetwork(i: ConfigDriveInput): Record<string, unknown> {
  const a = i.admin;
  const config: Record<string, unknown>[] = [];
  if (a) {
    const subnet =
      a.mode === 'static'
        ? { type: 'static', address: `${a.address}/${a.prefix}`, ...(a.gateway ? { gateway: a.gateway } : {}) }
        : { type: 'dhcp' };
    config.push({ type: 'physical', name: a.name, mac_address: a.mac, subnets: [subnet] });
  }
  if (i.nameServers.length) config.push({ type: 'nameserver', address: i.nameServers, search: i.searchDomains });
  return { version: 1, config };
}

export function metaData(i: ConfigDriveInput): Record<string, unknown> {
  const keys: Record<string, string> = {};
  i.publicKeys.forEach((k, n) => (keys[`key-${n}`] = k));
  return {
    uuid: i.uuid,
    hostname: i.fqdn,
    name: i.name,
    public_keys: keys,
    launch_index: 0,
    availability_zone: 'nova',
    files: i.files.map((f, n) => ({ path: f.path, content_path: `/content/${String(n).padStart(4, '0')}` })),
    meta: { uid: i.uid, fuel_forge: 'true' },
  };
}

export interface BuildOptions extends InputOptions {
  templatesDir?: string;
}

/**
 * The configdrive for data the schema checked (parseProvisionData): lone UTF-16
 * surrogates, line breaks in values and every other refusal happened there.
 */
export function buildConfigDrive(data: ProvisionData, opts: BuildOptions = {}): ConfigDriveContents {
  const input = configDriveInputFrom(data, opts);
  const dir = opts.templatesDir ?? templatesDir();
  const cloudConfig = renderCloudConfig(input, dir);
  const vars = textVars(input);
  const parts: MimePart[] = [
    { contentType: 'text/cloud-config', filename: 'cloud-config.yaml', body: cloudConfig },
    { contentType: 'text/cloud-boothook', filename: 'boothook.sh', body: renderText(loadTemplate('boothook.sh', dir), vars, 'boothook.sh') },
    { contentType: 'text/x-shellscript', filename: 'firstboot.sh', body: renderText(loadTemplate('firstboot.sh', dir), vars, 'firstboot.sh') },
  ];
  const userData = buildMultipart(parts);
  const files = new Map<string, string>();
  files.set('openstack/latest/meta_data.json', JSON.stringify(metaData(input), null, 2) + '\n');
  files.set('openstack/latest/user_data', userData);
  files.set('openstack/latest/network_data.json', JSON.stringify(networkData(input), null, 2) + '\n');
  input.files.forEach((f, n) => files.set(`openstack/content/${String(n).padStart(4, '0')}`, f.content));
  files.set('meta-data', toCloudYaml({
    'instance-id': input.uuid,
    'local-hostname': input.fqdn,
    'public-keys': input.publicKeys,
  }));
  files.set('user-data', userData);
  files.set('network-config', toCloudYaml(noCloudNetwork(input)));
  return { input, files, cloudConfig, parts };
}
