// The master network's address plan (pure). One /24 per network:
//   .1 gateway (the host's address on the bridge: mock Nailgun/Cobbler listen here)
//   .2 dnsmasq, .3 image server, .4 mcollective's broker, .5 the deployment
//   container (mco client, rsyncd) — static, so a restarted container keeps its address
//   .32–.63 docker's pool for any other container, .100–.199 dnsmasq's DHCP pool.
import { createHash } from 'node:crypto';
import { ForgeError } from '../../agent/core/errors.js';

export interface MasterAddressing {
  /** a.b.c.0/24 */
  subnet: string;
  /** Third octet; names the bridge and taps so they are unique per live network. */
  octet: number;
  netmask: string;
  gatewayIp: string;
  dnsmasqIp: string;
  imagesIp: string;
  /** RabbitMQ (STOMP) for mcollective: ks_meta.mco_host of the lab's nodes. */
  brokerIp: string;
  /** The deployment container: rsyncd (puppet code) and the mcollective client. */
  deployIp: string;
  /** docker's own allocation range (kept clear of the static and DHCP addresses). */
  dockerIpRange: string;
  dhcpRange: { start: string; end: string };
  bridge: string;
}

export const DEFAULT_PREFIX = '10.97';
/** The nodes' DNS domain in every lab scenario (Fuel's default, as in its sample data). */
export const LAB_DOMAIN = 'domain.tld';

const SUBNET_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.0\/24$/;

export function addressingFor(subnet: string): MasterAddressing {
  const m = SUBNET_RE.exec(subnet);
  const parts = m ? [m[1], m[2], m[3]].map(Number) : [];
  if (!m || parts.some((n) => n > 255)) {
    throw new ForgeError('USAGE', `master network subnet must be a.b.c.0/24, got ${JSON.stringify(subnet)}`, { field: 'subnet' });
  }
  const base = parts.join('.');
  const octet = parts[2] as number;
  return {
    subnet,
    octet,
    netmask: '255.255.255.0',
    gatewayIp: `${base}.1`,
    dnsmasqIp: `${base}.2`,
    imagesIp: `${base}.3`,
    brokerIp: `${base}.4`,
    deployIp: `${base}.5`,
    dockerIpRange: `${base}.32/27`,
    dhcpRange: { start: `${base}.100`, end: `${base}.199` },
    // ≤ 15 chars; the octet makes it unique among live master networks.
    bridge: `fmbr${parts[1]}x${octet}`.slice(0, 15),
  };
}

/** A starting /24 for a network name: 10.97.<hash>.0/24 (callers step on clashes). */
export function subnetForName(name: string, prefix = DEFAULT_PREFIX): string {
  const h = createHash('sha256').update(name).digest();
  return `${prefix}.${h[0] ?? 0}.0/24`;
}

/** The n-th candidate after `subnet` (same /16, next third octet, wrapping). */
export function nextSubnet(subnet: string, step = 1): string {
  const a = addressingFor(subnet);
  const [x, y] = subnet.split('.');
  return `${x}.${y}.${(a.octet + step) % 256}.0/24`;
}

/** True when `routes` (`ip -o -4 route show`) already routes into the /24. */
export function subnetInUse(subnet: string, routes: string): boolean {
  const base = subnet.replace(/\.0\/24$/, '.');
  return routes.split('\n').some((l) => {
    const dst = l.trim().split(/\s+/)[0] ?? '';
    return dst.startsWith(base) || (dst !== 'default' && coversBase(dst, base));
  });
}

/** Wider routes (e.g. 10.96.0.0/12) that contain the /24. */
function coversBase(dst: string, base: string): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(dst);
  if (!m) return false;
  const len = Number(m[5]);
  if (len > 24) return false;
  const toInt = (a: number[]): number => a.reduce((acc, n) => (acc << 8) + n, 0) >>> 0;
  const net = toInt([1, 2, 3, 4].map((i) => Number(m[i])));
  const ours = toInt([...base.slice(0, -1).split('.').map(Number), 0]);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return ((net & mask) >>> 0) === ((ours & mask) >>> 0);
}
