// Mock Cobbler: the XML-RPC subset Astute uses (login, find_system,
// get_system_handle/new_system, modify_system, save_system, remove_system, sync,
// power_system, get_system, get_profiles, get_distros) on POST /cobbler_api, plus
// HTTP serving of the boot files under /cblr/<profile>/. On sync it writes the
// per-MAC boot configs into the TFTP root it owns: the profile's kernel when
// netboot is enabled, a local disk boot otherwise — so a node whose netboot was
// never disabled boots the bootstrap again, as on a real master. Installer
// profiles (classic provisioning) also render each system's preseed at sync, from
// the system's ks_meta, served where Cobbler serves kickstarts
// (/cblr/svc/op/ks/system/<name>, template files under
// /cblr/svc/op/template/system/<name>/path/…), and the installer's last step
// GETs /cblr/svc/op/nopxe/system/<name> to turn its netboot off.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';
import { HttpError, listen, readBody, type Listening } from './http.js';
import { StaticFiles } from './static-files.js';
import { installUefiLoaders, renderSystemGrub, syncTftpImages, writeSystemGrubs } from './cobbler-grub.js';
import { faultResponse, methodCall, methodResponse, parseMethodCall, parseMethodResponse, type XmlRpcValue } from './xmlrpc.js';

export interface CobblerProfile {
  /** Directory holding the kernel and initrd, served at /cblr/<profile>/. */
  dir: string;
  /** File names in `dir` (default vmlinuz, initrd.img; Debian's installer: linux, initrd.gz). */
  kernel?: string;
  initrd?: string;
  /** The distro this profile boots (get_distros/get_profiles); default the profile's name. */
  distro?: string;
  /** Kernel command line; `{master}` etc. are left to the caller. */
  append: string;
  /**
   * Cobbler's kickstart template for an installer profile: the system's preseed
   * (and extra files it fetches) from its fields. Its presence makes the PXE entry
   * an automated install (auto=true priority=critical url=<ks URL>).
   */
  kickstart?: (sys: CobblerSystem, urls: SystemUrls) => RenderedKickstart;
}

export interface SystemUrls {
  ks: string;
  nopxe: string;
  /** Base of the system's template files: `${template}/<path>`. */
  template: string;
}

export interface RenderedKickstart {
  text: string;
  /** Served at /cblr/svc/op/template/system/<name>/path/<path>. */
  files?: Record<string, string>;
}

/** One request a booted system made to Cobbler's services (ks, template, nopxe). */
export interface SvcRequest {
  op: 'ks' | 'template' | 'nopxe';
  system: string;
  path: string;
  status: number;
  remote: string;
  at: number;
}

export interface CobblerSystem {
  name: string;
  hostname: string;
  profile: string;
  netbootEnabled: boolean;
  /** interface name → fields (mac_address, ip_address, …). */
  interfaces: Record<string, Record<string, string>>;
  kernelOptions: string;
  /** Cobbler's ks_meta: what the kickstart template reads (Fuel: pm_data, mco_*, authorized_keys, …). */
  ksMeta: Record<string, XmlRpcValue>;
  /** Every other field Astute set (power_*, name_servers, interfaces_extra, …), kept as given. */
  fields: Record<string, XmlRpcValue>;
}

export type PowerAction = 'on' | 'off' | 'reboot' | 'status';

export interface CobblerOptions {
  tftpRoot: string;
  profiles: Record<string, CobblerProfile>;
  /** Base URL under which guests reach this server (e.g. http://10.0.2.2:PORT); default the listen URL. */
  guestBaseUrl?: (port: number) => string;
  /** power_system calls this (the lab wires it to the VM's QMP). */
  power?: (system: CobblerSystem, action: PowerAction) => Promise<boolean | string>;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  /** shim and the signed GRUB network image for UEFI clients (default Debian's: cobbler-grub.ts). */
  uefiLoaders?: { shim: string; grub: string };
}

export interface StartedCobbler extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly tftpRoot: string;
  systems(): CobblerSystem[];
  system(name: string): CobblerSystem | undefined;
  /** Every XML-RPC call, in order (method + params, token-free). */
  readonly calls: { method: string; params: XmlRpcValue[] }[];
  readonly syncs: number;
  /** Boot-file HTTP requests (the node fetched its kernel: it PXE-booted). */
  readonly bootRequests: StaticFiles['requests'];
  /** Requests to /cblr/svc/op/… (preseed fetched, nopxe called), in order. */
  readonly svcRequests: SvcRequest[];
  /** The preseed sync rendered for a system (undefined when its profile has no kickstart). */
  kickstart(name: string): RenderedKickstart | undefined;
  close(): Promise<void>;
}

const macHyphen = (mac: string): string => mac.toLowerCase().replaceAll(':', '-');

function truthy(v: XmlRpcValue): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return ['true', '1', 'yes', 'y', 'on'].includes(String(v).toLowerCase());
}

export function renderBootIpxe(): string {
  // ${mac:hexhyp} is iPXE's own variable: 52-54-00-…; a MAC without a file boots locally.
  return '#!ipxe\nchain ipxe/${mac:hexhyp}.ipxe || goto local\n:local\necho fuel-forge: no system for ${mac}, booting local disk\nexit\n';
}

export const systemUrls = (base: string, name: string): SystemUrls => {
  const n = encodeURIComponent(name);
  return { ks: `${base}/cblr/svc/op/ks/system/${n}`, nopxe: `${base}/cblr/svc/op/nopxe/system/${n}`, template: `${base}/cblr/svc/op/template/system/${n}/path` };
};

/**
 * The kernel command line of a system: the profile's, the system's own options,
 * and for an installer profile what Cobbler adds to a Debian preseed install —
 * automatic mode, the preseed URL, and the host name the installer needs before
 * it has read the preseed.
 */
export function systemAppend(sys: CobblerSystem, profile: CobblerProfile, base: string): string {
  const parts = [profile.append, sys.kernelOptions];
  if (profile.kickstart) {
    const [host, ...domain] = (sys.hostname || sys.name).split('.');
    parts.push(`auto=true priority=critical url=${systemUrls(base, sys.name).ks} hostname=${host ?? sys.name}`);
    if (domain.length) parts.push(`domain=${domain.join('.')}`);
  }
  return parts.filter(Boolean).join(' ');
}

export function renderSystemIpxe(sys: CobblerSystem, profile: CobblerProfile | undefined, base: string): string {
  if (!sys.netbootEnabled || !profile) {
    // `exit` hands the boot back to the firmware, which takes the next device in its
    // boot order (the disk), as Cobbler's own iPXE local boot does. `sanboot --drive
    // 0x80` booted the disk from inside iPXE and, under TCG, hung one boot in three
    // with no kernel output (CI's e2e first boot; reproduced on copies of its disks).
    return `#!ipxe\n# ${sys.name}: netboot disabled, boot the local disk\nexit\n`;
  }
  const url = `${base}/cblr/${sys.profile}`;
  const [kernel, initrd] = [profile.kernel ?? 'vmlinuz', profile.initrd ?? 'initrd.img'];
  return `#!ipxe\n# ${sys.name}: profile ${sys.profile}\nkernel ${url}/${kernel} initrd=${initrd} ${systemAppend(sys, profile, base)}\ninitrd ${url}/${initrd}\nboot\n`;
}

export function renderPxelinux(sys: CobblerSystem, profile: CobblerProfile | undefined, base: string): string {
  if (!sys.netbootEnabled || !profile) return `DEFAULT local\nPROMPT 0\nLABEL local\n  LOCALBOOT -1\n`;
  const [kernel, initrd] = [profile.kernel ?? 'vmlinuz', profile.initrd ?? 'initrd.img'];
  return `DEFAULT ${sys.profile}\nPROMPT 0\nLABEL ${sys.profile}\n  KERNEL /cblr/${sys.profile}/${kernel}\n  INITRD /cblr/${sys.profile}/${initrd}\n  APPEND ${systemAppend(sys, profile, base)}\n`;
}

/** Cobbler's kernel_options as a struct (Astute sends one) or a string: `k=v k2=v2`. */
function kernelOptionsText(v: XmlRpcValue): string {
  if (typeof v === 'string') return v;
  if (isStruct(v)) return Object.entries(v).map(([k, x]) => (x === null || x === '' ? k : `${k}=${String(x)}`)).join(' ');
  return '';
}

/** An XML-RPC struct (not an array, base64 or scalar). */
export function isStruct(v: XmlRpcValue | undefined): v is { [k: string]: XmlRpcValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Cobbler's string form of kernel_options and ks_meta, `k=v k2 k3=v3`, as a map (a bare word maps to ''). */
export function parseKeyValues(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of text.split(/\s+/).filter(Boolean)) {
    const i = w.indexOf('=');
    if (i < 0) out[w] = '';
    else out[w.slice(0, i)] = w.slice(i + 1);
  }
  return out;
}

/** ks_meta as a struct, or in Cobbler's string form `k=v k2=v2` (values stay strings). */
function ksMetaOf(v: XmlRpcValue): Record<string, XmlRpcValue> {
  if (isStruct(v)) return structuredClone(v);
  return typeof v === 'string' ? parseKeyValues(v) : {};
}

export async function startCobbler(o: CobblerOptions): Promise<StartedCobbler> {
  const systems = new Map<string, CobblerSystem>();
  const handles = new Map<string, CobblerSystem>();
  const tokens = new Set<string>();
  const calls: { method: string; params: XmlRpcValue[] }[] = [];
  const statics = new Map(Object.entries(o.profiles).map(([k, p]) => [k, new StaticFiles(p.dir)]));
  const bootRequests: StaticFiles['requests'] = [];
  const svcRequests: SvcRequest[] = [];
  const kickstarts = new Map<string, RenderedKickstart>();
  let syncs = 0;
  let seq = 0;
  let port = 0;
  mkdirSync(join(o.tftpRoot, 'ipxe'), { recursive: true });
  mkdirSync(join(o.tftpRoot, 'pxelinux.cfg'), { recursive: true });
  writeFileSync(join(o.tftpRoot, 'boot.ipxe'), renderBootIpxe());
  installUefiLoaders(o.tftpRoot, o.uefiLoaders);

  const fail = (msg: string): never => {
    // Becomes the XML-RPC fault the caller sees, as Cobbler's own CX exceptions do.
    throw new ForgeError('LAB_FAILED', msg);
  };
  const str = (v: XmlRpcValue | undefined, what: string): string => (typeof v === 'string' ? v : fail(`${what} must be a string`));
  const auth = (token: XmlRpcValue | undefined): void => {
    if (typeof token !== 'string' || !tokens.has(token)) fail('invalid token');
  };
  const handle = (h: XmlRpcValue | undefined): CobblerSystem => handles.get(String(h)) ?? fail(`unknown handle ${String(h)}`);
  const fresh = (name: string): CobblerSystem => ({ name, hostname: '', profile: '', netbootEnabled: false, interfaces: {}, kernelOptions: '', ksMeta: {}, fields: {} });
  const view = (s: CobblerSystem): XmlRpcValue => ({
    name: s.name,
    hostname: s.hostname,
    profile: s.profile,
    netboot_enabled: s.netbootEnabled,
    kernel_options: s.kernelOptions,
    ks_meta: structuredClone(s.ksMeta),
    ...structuredClone(s.fields),
    interfaces: Object.fromEntries(Object.entries(s.interfaces).map(([k, v]) => [k, { ...v }])),
  });

  const baseUrl = (): string => (o.guestBaseUrl ? o.guestBaseUrl(port) : `http://127.0.0.1:${port}`);
  /** Renders every installer system's preseed first: a template that fails stops the sync, nothing half-written. */
  const renderKickstarts = (): Map<string, RenderedKickstart> => {
    const out = new Map<string, RenderedKickstart>();
    for (const s of systems.values()) {
      const prof = o.profiles[s.profile];
      if (!s.netbootEnabled || !prof?.kickstart) continue;
      try {
        out.set(s.name, prof.kickstart(s, systemUrls(baseUrl(), s.name)));
      } catch (e) {
        fail(`system ${s.name}: kickstart template of profile ${s.profile} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return out;
  };
  const writeBootConfigs = (): void => {
    const base = baseUrl();
    for (const d of ['ipxe', 'pxelinux.cfg']) {
      for (const f of readdirSync(join(o.tftpRoot, d))) rmSync(join(o.tftpRoot, d, f), { force: true });
    }
    const grubs = new Map<string, string>();
    for (const s of systems.values()) {
      const prof = o.profiles[s.profile];
      // UEFI clients load the kernel and initrd over TFTP (GRUB's signed image has no HTTP).
      if (s.netbootEnabled && prof) syncTftpImages(o.tftpRoot, s.profile, prof);
      for (const iface of Object.values(s.interfaces)) {
        const mac = iface['mac_address'];
        if (!mac) continue;
        writeFileSync(join(o.tftpRoot, 'ipxe', `${macHyphen(mac)}.ipxe`), renderSystemIpxe(s, prof, base));
        writeFileSync(join(o.tftpRoot, 'pxelinux.cfg', `01-${macHyphen(mac)}`), renderPxelinux(s, prof, base));
        grubs.set(mac, renderSystemGrub(s, prof, prof ? systemAppend(s, prof, base) : ''));
      }
    }
    writeSystemGrubs(o.tftpRoot, grubs);
  };
  const sync = (): void => {
    const rendered = renderKickstarts();
    syncs++;
    kickstarts.clear();
    for (const [k, v] of rendered) kickstarts.set(k, v);
    writeBootConfigs();
  };

  const modify = (s: CobblerSystem, key: string, value: XmlRpcValue): void => {
    switch (key) {
      case 'name':
        s.name = str(value, 'name');
        return;
      case 'hostname':
        s.hostname = str(value, 'hostname');
        return;
      case 'profile':
        if (!(str(value, 'profile') in o.profiles)) fail(`invalid profile name: ${String(value)}`);
        s.profile = value as string;
        return;
      case 'netboot_enabled':
      case 'netboot-enabled':
        s.netbootEnabled = truthy(value);
        return;
      case 'kernel_options':
      case 'kopts':
        s.kernelOptions = kernelOptionsText(value);
        return;
      case 'ks_meta':
      case 'ksmeta':
        s.ksMeta = ksMetaOf(value);
        return;
      case 'modify_interface':
      case 'interfaces': {
        if (!isStruct(value)) fail(`${key} must be a struct`);
        for (const [k, v] of Object.entries(value as Record<string, XmlRpcValue>)) {
          // Cobbler's "field-ifname" keys: macaddress-eth0, ipaddress-eth0, …
          const m = /^([a-z_]+)-(.+)$/.exec(k);
          if (!m) fail(`modify_interface: bad key ${k}`);
          const field = ({ macaddress: 'mac_address', ipaddress: 'ip_address', dnsname: 'dns_name' } as Record<string, string>)[m?.[1] ?? ''] ?? (m?.[1] as string);
          const ifname = m?.[2] as string;
          const iface = (s.interfaces[ifname] ??= {});
          iface[field] = field === 'mac_address' ? String(v).toLowerCase() : String(v);
        }
        return;
      }
      case 'delete_interface':
        delete s.interfaces[String(value)];
        return;
      default:
        // Kept as given (power_*, name_servers, interfaces_extra, …): templates may read them.
        s.fields[key] = structuredClone(value);
        return;
    }
  };

  const methods: Record<string, (p: XmlRpcValue[]) => Promise<XmlRpcValue> | XmlRpcValue> = {
    login: (p) => {
      if ((o.user ?? 'cobbler') !== p[0] || (o.password ?? 'cobbler') !== p[1]) fail('login failed');
      const t = `token-${++seq}`;
      tokens.add(t);
      return t;
    },
    version: () => 2.6,
    find_system: (p) => {
      const crit = (p[0] ?? {}) as Record<string, XmlRpcValue>;
      return [...systems.values()]
        .filter((s) => Object.entries(crit).every(([k, v]) => {
          if (k === 'name') return s.name === v;
          if (k === 'hostname') return s.hostname === v;
          if (k === 'mac_address' || k === 'mac') return Object.values(s.interfaces).some((i) => i['mac_address'] === String(v).toLowerCase());
          return true;
        }))
        .map((s) => s.name);
    },
    get_system: (p) => {
      const s = systems.get(str(p[0], 'name'));
      return s ? view(s) : '~';
    },
    get_systems: () => [...systems.values()].map(view),
    get_profiles: () => Object.entries(o.profiles).map(([name, p]) => ({ name, distro: p.distro ?? name, kernel_options: p.append, kickstart: p.kickstart ? `/cblr/svc/op/ks/profile/${name}` : '' })),
    get_distros: () => [...new Set(Object.entries(o.profiles).map(([name, p]) => p.distro ?? name))].map((d) => {
      const [pname, p] = Object.entries(o.profiles).find(([n, x]) => (x.distro ?? n) === d) as [string, CobblerProfile];
      return { name: d, kernel: join(p.dir, p.kernel ?? 'vmlinuz'), initrd: join(p.dir, p.initrd ?? 'initrd.img'), profile: pname };
    }),
    get_system_handle: (p) => {
      auth(p[1]);
      const s = systems.get(str(p[0], 'name')) ?? fail(`unknown system name ${String(p[0])}`);
      const h = `___NEW___system::${++seq}`;
      handles.set(h, structuredClone(s));
      return h;
    },
    new_system: (p) => {
      auth(p[0]);
      const h = `___NEW___system::${++seq}`;
      handles.set(h, fresh(''));
      return h;
    },
    modify_system: (p) => {
      auth(p[3]);
      modify(handle(p[0]), str(p[1], 'field'), p[2] ?? '');
      return true;
    },
    save_system: (p) => {
      auth(p[1]);
      const s = handle(p[0]);
      if (!s.name) fail('system has no name');
      if (!s.profile) fail(`system ${s.name}: profile is required`);
      systems.set(s.name, structuredClone(s));
      return true;
    },
    remove_system: (p) => {
      auth(p[1]);
      return systems.delete(str(p[0], 'name'));
    },
    sync: (p) => {
      auth(p[0]);
      sync();
      return true;
    },
    power_system: async (p) => {
      auth(p[2]);
      const s = systems.get(String(p[0])) ?? handles.get(String(p[0])) ?? fail(`unknown system ${String(p[0])}`);
      const action = str(p[1], 'power');
      if (!['on', 'off', 'reboot', 'status'].includes(action)) fail(`invalid power operation ${action}`);
      if (!o.power) fail('no power management configured');
      const r = await (o.power as NonNullable<CobblerOptions['power']>)(s, action as PowerAction);
      return r;
    },
  };

  /** Cobbler's services a booted system calls: its preseed, template files, and netboot off. */
  const svc = (req: IncomingMessage, res: ServerResponse, op: SvcRequest['op'], name: string, path: string): void => {
    const rec = (status: number): void => {
      svcRequests.push({ op, system: name, path, status, remote: req.socket.remoteAddress ?? '', at: Date.now() });
    };
    const s = systems.get(name);
    const send = (status: number, body: string): void => {
      rec(status);
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!s) return send(404, `# no system ${name}\n`);
    if (op === 'nopxe') {
      // Cobbler's own nopxe: netboot off and that system's PXE entry rewritten at once.
      s.netbootEnabled = false;
      writeBootConfigs();
      return send(200, 'True');
    }
    const ks = kickstarts.get(name);
    if (!ks) return send(404, `# system ${name}: no kickstart rendered (profile ${s.profile}, netboot ${s.netbootEnabled})\n`);
    if (op === 'ks') return send(200, ks.text);
    const file = ks.files?.[path];
    return file === undefined ? send(404, `# system ${name}: no template file ${path}\n`) : send(200, file);
  };

  const srv: Listening = await listen(o.host ?? '127.0.0.1', o.port ?? 0, async (req, res, url) => {
    const sv = /^\/cblr\/svc\/op\/(ks|nopxe|template)\/system\/([^/]+)(?:\/path\/(.+))?$/.exec(url.pathname);
    if (sv && (req.method === 'GET' || req.method === 'HEAD' || req.method === 'POST')) {
      return svc(req, res, sv[1] as SvcRequest['op'], decodeURIComponent(sv[2] as string), sv[3] ?? '');
    }
    const m = /^\/cblr\/([\w.-]+)\/(.+)$/.exec(url.pathname);
    if ((req.method === 'GET' || req.method === 'HEAD') && m) {
      const st = statics.get(m[1] as string);
      if (!st) throw new HttpError(404, `no profile ${m[1]}`);
      await st.serve(req, res, m[2] as string);
      bootRequests.push(...st.requests.splice(0));
      return;
    }
    if (req.method !== 'POST' || !/^\/cobbler_api\/?$/.test(url.pathname)) throw new HttpError(404, 'not found');
    let xml: string;
    try {
      const call = parseMethodCall((await readBody(req)).toString('utf8'));
      calls.push(call);
      const fn = methods[call.method];
      xml = fn ? methodResponse(await fn(call.params)) : faultResponse(1, `unknown remote method '${call.method}'`);
    } catch (e) {
      xml = faultResponse(1, e instanceof Error ? e.message : String(e));
    }
    res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  });
  port = srv.port;
  return {
    url: `http://${srv.host}:${srv.port}`,
    port: srv.port,
    tftpRoot: o.tftpRoot,
    systems: () => [...systems.values()],
    system: (n) => systems.get(n),
    calls,
    get syncs() {
      return syncs;
    },
    bootRequests,
    svcRequests,
    kickstart: (n) => kickstarts.get(n),
    close: () => srv.close(),
    [Symbol.asyncDispose]: () => srv.close(),
  };
}

/** A tiny XML-RPC client, as Astute's cobbler client uses the API. */
export class CobblerClient {
  #token = '';
  constructor(readonly url: string) {}
  async call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
    const res = await fetch(`${this.url}/cobbler_api`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: methodCall(method, params) });
    return parseMethodResponse(await res.text());
  }
  async login(user = 'cobbler', password = 'cobbler'): Promise<void> {
    this.#token = String(await this.call('login', user, password));
  }
  /** Creates or updates a system and syncs, as Astute does before provisioning. */
  async upsertSystem(s: {
    name: string; hostname: string; profile: string; netbootEnabled: boolean; macs: Record<string, string>; kernelOptions?: XmlRpcValue;
    /** Further fields as Astute sets them from provisioning_info (ks_meta, power_*, name_servers, …). */
    fields?: Record<string, XmlRpcValue>;
  }): Promise<void> {
    const found = (await this.call('find_system', { name: s.name })) as string[];
    const h = found.length ? await this.call('get_system_handle', s.name, this.#token) : await this.call('new_system', this.#token);
    await this.call('modify_system', h, 'name', s.name, this.#token);
    await this.call('modify_system', h, 'hostname', s.hostname, this.#token);
    await this.call('modify_system', h, 'profile', s.profile, this.#token);
    await this.call('modify_system', h, 'netboot_enabled', s.netbootEnabled, this.#token);
    if (s.kernelOptions !== undefined) await this.call('modify_system', h, 'kernel_options', s.kernelOptions, this.#token);
    for (const [k, v] of Object.entries(s.fields ?? {})) await this.call('modify_system', h, k, v, this.#token);
    await this.call('modify_system', h, 'modify_interface', Object.fromEntries(Object.entries(s.macs).map(([i, m]) => [`macaddress-${i}`, m])), this.#token);
    await this.call('save_system', h, this.#token);
  }
  async getSystem(name: string): Promise<Record<string, XmlRpcValue> | undefined> {
    const r = await this.call('get_system', name);
    return isStruct(r) ? r : undefined;
  }
  async setNetboot(name: string, enabled: boolean): Promise<void> {
    const h = await this.call('get_system_handle', name, this.#token);
    await this.call('modify_system', h, 'netboot_enabled', enabled, this.#token);
    await this.call('save_system', h, this.#token);
  }
  async sync(): Promise<void> {
    await this.call('sync', this.#token);
  }
  async power(name: string, action: PowerAction): Promise<XmlRpcValue> {
    return this.call('power_system', name, action, this.#token);
  }
  async remove(name: string): Promise<void> {
    await this.call('remove_system', name, this.#token);
  }
}
