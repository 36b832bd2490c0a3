// The master's two containers, started through testcontainers from the locally
// built image: dnsmasq (DHCP + TFTP for PXE) and nginx (OS images with Range).
// Config is pure (dnsmasqArgv, nginxConfig) and unit tested; each container gets
// a static address on the master network so a restart keeps it.
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { LAB_LABEL, OWNER_PID_LABEL } from './docker-cli.js';

// No registry is reachable, so Ryuk (testcontainers' reaper image) can never be
// pulled; our own disposal removes what we start.
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

export const TFTP_ROOT_IN_CONTAINER = '/tftp';
export const IMAGES_DIR_IN_CONTAINER = '/srv/targetimages';
export const NGINX_CONF_IN_CONTAINER = '/etc/fuel-forge/nginx.conf';
export const IMAGES_PATH = '/targetimages';

export interface DhcpHost {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface DnsmasqConfig {
  rangeStart: string;
  rangeEnd: string;
  netmask: string;
  /** DHCP option 3: the host's address on the bridge. */
  router: string;
  /**
   * DNS for the lab's names, answered by dnsmasq itself (DHCP option 6 = its own
   * address). Never forwarded: it has no upstream, so a name outside the lab gets
   * an immediate refusal instead of a query that leaves the lab or times out.
   * Omitted: no DNS service (port 0).
   */
  dns?: DnsmasqDns;
  /** Handed out as the boot file to BIOS clients; iPXE fetches it over TFTP from dnsmasq itself. */
  bootFile: string;
  /**
   * Handed out to UEFI clients (DHCP option 93, client architecture 7 or 9: x86-64
   * UEFI): shim, which loads the signed GRUB beside it (the Secure Boot chain).
   */
  uefiBootFile?: string;
  leaseTime?: string;
  hosts?: readonly DhcpHost[];
}

export interface DnsmasqDns {
  /** The lab's domain: DHCP clients' names are registered under it. */
  domain: string;
  /** Fixed names (FQDN → address), e.g. the master as puppet master. */
  records: readonly { name: string; ip: string }[];
}

/** iPXE's option 175 payload: sub-option 176 (no-pxedhcp), length 1, value 1. */
export const IPXE_NO_PXEDHCP = 'b0:01:01';

export function dnsmasqArgv(c: DnsmasqConfig): string[] {
  const a = [
    '/usr/sbin/dnsmasq',
    '--no-daemon',
    '--conf-file=/dev/null',
    // Root keeps a 0700 host temp dir (the bind-mounted TFTP root) readable.
    '--user=root',
    ...(c.dns ? dnsArgs(c.dns) : ['--port=0']),
    '--log-dhcp',
    '--log-facility=-',
    '--pid-file=/tmp/dnsmasq.pid',
    '--dhcp-leasefile=/tmp/dnsmasq.leases',
    // The only DHCP server on this segment: answer at once, also to unknown leases.
    '--dhcp-authoritative',
    `--dhcp-range=${c.rangeStart},${c.rangeEnd},${c.netmask},${c.leaseTime ?? '1h'}`,
    `--dhcp-option=option:router,${c.router}`,
    // iPXE (QEMU's NIC boot ROMs) waits ~3 s after our offer for ProxyDHCP offers unless the offer
    // says there are none: its encapsulated option 175.176 (no-pxedhcp) = 1. dnsmasq sends option 175
    // only to clients that ask for it, i.e. iPXE.
    `--dhcp-option=175,${IPXE_NO_PXEDHCP}`,
  ];
  for (const h of c.hosts ?? []) a.push(`--dhcp-host=${[h.mac, h.ip, h.hostname].filter(Boolean).join(',')}`);
  if (c.uefiBootFile) a.push('--dhcp-match=set:efi64,option:client-arch,7', '--dhcp-match=set:efi64,option:client-arch,9');
  a.push(
    // next-server defaults to dnsmasq's own address, where its TFTP server listens.
    // Both kinds of firmware on one segment: each boot file names the tag it needs.
    ...(c.uefiBootFile ? [`--dhcp-boot=tag:efi64,${c.uefiBootFile}`, `--dhcp-boot=tag:!efi64,${c.bootFile}`] : [`--dhcp-boot=${c.bootFile}`]),
    '--enable-tftp',
    `--tftp-root=${TFTP_ROOT_IN_CONTAINER}`,
  );
  return a;
}

function dnsArgs(d: DnsmasqDns): string[] {
  return [
    '--port=53',
    // No upstream: neither the container's resolv.conf nor the image's /etc/hosts.
    '--no-resolv',
    '--no-hosts',
    `--domain=${d.domain}`,
    // Names in the lab's domain that we do not know are NXDOMAIN, never asked elsewhere.
    `--local=/${d.domain}/`,
    ...d.records.map((r) => `--host-record=${r.name},${r.ip}`),
  ];
}

/** nginx in the foreground, logging to the container's stdout/stderr; Range is native for static files. */
export function nginxConfig(): string {
  return [
    '# fuel-forge lab image server',
    'user root;', // reads the bind-mounted images whatever their owner and mode
    'worker_processes 1;',
    'daemon off;',
    'pid /tmp/nginx.pid;',
    'error_log stderr notice;',
    'events { worker_connections 256; }',
    'http {',
    '  access_log /dev/stdout;',
    '  sendfile on;',
    '  default_type application/octet-stream;',
    '  server {',
    '    listen 80 default_server;',
    '    location = /healthz { return 200 "ok\\n"; }',
    `    location ${IMAGES_PATH}/ { alias ${IMAGES_DIR_IN_CONTAINER}/; autoindex on; }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * testcontainers has no static-IP option; the create request's NetworkingConfig
 * takes one, so set it just before the container is created.
 */
class StaticIpContainer extends GenericContainer {
  #network = '';
  #ip = '';
  #dns: string[] = [];
  withStaticIp(network: string, ip: string): this {
    this.#network = network;
    this.#ip = ip;
    return this.withNetworkMode(network);
  }
  /**
   * docker's embedded DNS forwards names it does not know to the host's resolvers
   * from inside the container's namespace, i.e. out through the lab bridge: give it
   * the lab's own dnsmasq instead (rsyncd's reverse lookup of a node was caught so).
   */
  withDnsServers(servers: readonly string[]): this {
    this.#dns = [...servers];
    return this;
  }
  protected override async beforeContainerCreated(): Promise<void> {
    if (this.#dns.length) this.hostConfig.Dns = this.#dns;
    if (!this.#network) return;
    this.createOpts.NetworkingConfig = {
      EndpointsConfig: { [this.#network]: { IPAMConfig: { IPv4Address: this.#ip } } },
    };
  }
}

export interface ContainerCommon {
  image: string;
  network: string;
  ip: string;
  /** Name servers for the container (the lab's dnsmasq): none outside the lab. */
  dns: readonly string[];
  /** Value of the LAB_LABEL label (the network's name), so leftovers are found by label. */
  labelValue: string;
  startupTimeoutMs?: number;
}

/** A lab container: static address on the master network, lab DNS, labels our sweeps find. */
export function labContainer(c: ContainerCommon, role: string): GenericContainer {
  return new StaticIpContainer(c.image)
    .withStaticIp(c.network, c.ip)
    .withDnsServers(c.dns)
    .withName(`${c.network}-${role}`)
    .withLabels({ [LAB_LABEL]: c.labelValue, [OWNER_PID_LABEL]: String(process.pid), 'fuel-forge.role': role })
    // Our disposal stops and removes it; no reaper is available anyway.
    .withAutoCleanup(false)
    .withStartupTimeout(c.startupTimeoutMs ?? 60_000);
}

export async function startDnsmasq(c: ContainerCommon & { tftpRoot: string; config: DnsmasqConfig }): Promise<StartedTestContainer> {
  return labContainer(c, 'dnsmasq')
    .withAddedCapabilities('NET_ADMIN', 'NET_RAW')
    .withBindMounts([{ source: c.tftpRoot, target: TFTP_ROOT_IN_CONTAINER, mode: 'ro' }])
    .withCommand(dnsmasqArgv(c.config))
    .withWaitStrategy(Wait.forLogMessage(/TFTP root is/))
    .start();
}

export async function startImageServer(c: ContainerCommon & { imagesDir: string }): Promise<StartedTestContainer> {
  return labContainer(c, 'images')
    .withBindMounts([{ source: c.imagesDir, target: IMAGES_DIR_IN_CONTAINER, mode: 'ro' }])
    .withCopyContentToContainer([{ content: nginxConfig(), target: NGINX_CONF_IN_CONTAINER, mode: 0o644 }])
    .withCommand(['/usr/sbin/nginx', '-c', NGINX_CONF_IN_CONTAINER])
    .withWaitStrategy(Wait.forLogMessage(/start worker process/))
    .start();
}
