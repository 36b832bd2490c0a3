// The lab's master node, as Fuel's master ran it: dnsmasq (DHCP + TFTP) and the
// OS-image HTTP server in containers on one docker bridge; QEMU guests join that
// bridge through taps, so several VMs share one L2 segment and PXE-boot from the
// dnsmasq container. Mock Nailgun/Cobbler stay in the host process and are
// reached by guests at the bridge's gateway address (the host's side).
import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type { StartedTestContainer } from 'testcontainers';
import { forgeCacheDir } from '../../agent/host/build/cache-dir.js';
import { createCtx } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import type { Logger } from '../../agent/core/log.js';
import type { Runner } from '../../agent/core/runner.js';
import { tcpPort } from '../vm/wait.js';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { ensureMasterImage } from './container-image.js';
import { IMAGES_PATH, startDnsmasq, startImageServer, type DhcpHost } from './containers.js';
import {
  LAB_LABEL, containerLogs, dockerProbe, pauseArgv, psByLabelArgv, rmForceArgv, startArgv, stateArgv, stopArgv, unpauseArgv,
} from './docker-cli.js';
import { ensureDocker } from './docker-daemon.js';
import { IFNAME_MAX, addTap, deleteLink } from './ip-link.js';
import { installGuard, sweepStaleGuards, type GuardCounters } from './guard.js';
import { startRouterAdverts, sweepStaleRouterAdverts } from './router-adverts.js';
import { allowBridgeForwarding } from './iptables.js';
import { LAB_DOMAIN } from './addressing.js';
import { createMasterNetwork } from './network.js';
import { sweepStaleMasterNetworks } from './stale.js';

export interface MasterNetworkOptions {
  runner: Runner;
  /** Mock Cobbler's TFTP root: bind-mounted read-only as dnsmasq's TFTP root. */
  tftpRoot: string;
  /** Served read-only at http://<imagesIp>/targetimages/. */
  imagesDir: string;
  /** docker network (and container name prefix); default unique per process. */
  name?: string;
  /** a.b.c.0/24; default 10.97.<hash of name>.0/24, stepping past any /24 in use. */
  subnet?: string;
  /** Container image tag; default ensureMasterImage() (built on first use, then cached). */
  image?: string;
  /** Default $FORGE_CACHE_DIR or /var/cache/fuel-forge. */
  cacheDir?: string;
  /** DHCP boot file name; default boot.ipxe (what mock Cobbler's sync writes). */
  bootFile?: string;
  /** UEFI clients' boot file; default shimx64.efi (mock Cobbler puts shim there). */
  uefiBootFile?: string;
  /** Fixed leases (MAC → IP), e.g. the addresses Nailgun's data gives the nodes. */
  dhcpHosts?: readonly DhcpHost[];
  /** The lab's DNS domain, served by dnsmasq; default LAB_DOMAIN. */
  domain?: string;
  log?: Logger;
}

export interface DhcpAck {
  ip: string;
  mac: string;
  line: string;
}

export interface MasterNetwork extends AsyncDisposable {
  readonly name: string;
  /** Linux bridge interface name (taps join it). */
  readonly bridge: string;
  readonly subnet: string;
  /** The host's address on the bridge: where guests reach mock Nailgun/Cobbler. */
  readonly gatewayIp: string;
  /** The lab's only name server (dnsmasq): answers for `domain`, forwards nothing. */
  readonly dnsmasqIp: string;
  readonly domain: string;
  readonly imagesIp: string;
  /** Static addresses kept for the deployment services (lab/master/deploy-services.ts). */
  readonly brokerIp: string;
  readonly deployIp: string;
  /** http://<imagesIp>/targetimages — the same URL for guests and the host. */
  readonly imagesUrl: string;
  readonly dhcpRange: { start: string; end: string };
  readonly image: string;
  readonly dnsmasq: StartedTestContainer;
  readonly images: StartedTestContainer;
  /** Creates a tap on the bridge (up) for a VM NIC; removed on dispose. Returns its name. */
  addTap(name?: string): Promise<string>;
  removeTap(name: string): Promise<void>;
  taps(): readonly string[];
  /** dnsmasq's log so far (DHCP and TFTP lines). */
  dnsmasqLog(): Promise<string>;
  /** nginx access and error log so far. */
  imagesLog(): Promise<string>;
  /** DHCPACKs dnsmasq logged, in order. */
  dhcpAcks(): Promise<DhcpAck[]>;
  /** Freezes nginx: connections open but nothing answers (a stall). Address kept. */
  pauseImages(): Promise<void>;
  unpauseImages(): Promise<void>;
  /** Stops nginx: connections refused. startImages() brings it back on the same address. */
  stopImages(): Promise<void>;
  startImages(): Promise<void>;
  /** The containment guard's packet counts so far (lab/master/guard.ts). */
  containment(): Promise<GuardCounters>;
  /** Link-local addresses whose IPv6 router solicitations the bridge's radvd answered (lab/master/router-adverts.ts). */
  routerSolicitationsAnswered(): string[];
  /** Stops the containers, removes taps, the network and any iptables rule. Idempotent. */
  dispose(): Promise<void>;
}

/** The master's names, as Fuel's data refers to it (e.g. puppet_master). */
export const masterNames = (domain: string): string[] => [`fuel.${domain}`, `master.${domain}`];

let counter = 0;
const defaultName = (): string => `forge-master-${process.pid}-${counter++}`;

const DHCPACK_RE = /DHCPACK\(\S+\) (\d+\.\d+\.\d+\.\d+) ([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i;

export function parseDhcpAcks(log: string): DhcpAck[] {
  const out: DhcpAck[] = [];
  for (const line of log.split('\n')) {
    const m = DHCPACK_RE.exec(line);
    if (m?.[1] && m[2]) out.push({ ip: m[1], mac: m[2].toLowerCase(), line });
  }
  return out;
}

export async function startMasterNetwork(o: MasterNetworkOptions): Promise<MasterNetwork> {
  const { runner } = o;
  const cacheDir = o.cacheDir ?? forgeCacheDir();
  const name = o.name ?? defaultName();
  const domain = o.domain ?? LAB_DOMAIN;
  const log = o.log ?? createCtx({ runner }).log;
  // docker would silently create a missing bind-mount source on the host.
  for (const [field, dir] of [['tftpRoot', o.tftpRoot], ['imagesDir', o.imagesDir]] as const) {
    if (!isAbsolute(dir) || !(await stat(dir).then((s) => s.isDirectory(), () => false))) {
      throw new ForgeError('USAGE', `master network: ${field} must be an existing absolute directory, got ${JSON.stringify(dir)}`, { field });
    }
  }
  await ensureDocker(runner, { cacheDir });
  await sweepStaleMasterNetworks(runner, log);
  await sweepStaleGuards(runner, log);
  for (const dir of sweepStaleRouterAdverts()) log.info('master.router_adverts.swept', { dir });
  const image = o.image ?? (await ensureMasterImage(createCtx({ runner, log }), { cacheDir })).tag;

  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  try {
    const net = await createMasterNetwork(runner, { name, ...(o.subnet === undefined ? {} : { subnet: o.subnet }) });
    stack.defer(`network ${name}`, net.remove);
    // Before any container or tap joins the bridge: nothing on it may reach beyond the lab.
    const guard = await installGuard(runner, { bridge: net.bridge, subnet: net.subnet }, log);
    stack.defer(`containment guard for ${net.bridge}`, guard.remove);
    const releaseRule = await allowBridgeForwarding(runner, net.bridge);
    if (releaseRule) stack.defer(`iptables FORWARD rule for ${net.bridge}`, releaseRule);
    // A container whose start failed half-way (wait strategy timed out) is not
    // handed back by testcontainers: sweep by label before the network goes.
    stack.defer(`containers labelled ${LAB_LABEL}=${name}`, () => removeLabelled(runner, name));

    const common = { image, network: name, labelValue: name, dns: [net.dnsmasqIp] };
    const dnsmasq = await startDnsmasq({
      ...common,
      ip: net.dnsmasqIp,
      tftpRoot: o.tftpRoot,
      config: {
        rangeStart: net.dhcpRange.start,
        rangeEnd: net.dhcpRange.end,
        netmask: net.netmask,
        router: net.gatewayIp,
        dns: {
          domain,
          records: [
            ...masterNames(domain).map((n) => ({ name: n, ip: net.gatewayIp })),
            { name: `images.${domain}`, ip: net.imagesIp },
          ],
        },
        bootFile: o.bootFile ?? 'boot.ipxe',
        uefiBootFile: o.uefiBootFile ?? 'shimx64.efi',
        ...(o.dhcpHosts ? { hosts: o.dhcpHosts } : {}),
      },
    });
    stack.defer('dnsmasq container', async () => {
      await dnsmasq.stop({ timeout: 1000 });
    });
    let imagesPaused = false;
    const images = await startImageServer({ ...common, ip: net.imagesIp, imagesDir: o.imagesDir });
    stack.defer('image server container', async () => {
      // A frozen container cannot be stopped cleanly.
      if ((await dockerProbe(runner, stateArgv(images.getId())))?.trim() === 'paused') {
        await runner.run(unpauseArgv(images.getId()), { timeoutMs: 30_000 });
      }
      await images.stop({ timeout: 1000 });
    });

    // "No IPv6 router here", before any node boots: iPXE otherwise waits ~13 s per pass for one.
    // After the containers: a bridge with no port has no carrier and no link-local address yet.
    const adverts = await startRouterAdverts(runner, { bridge: net.bridge, log });
    stack.defer(`radvd on ${net.bridge}`, adverts.stop);

    const taps = new Set<string>();
    let tapCounter = 0;
    stack.defer('taps', async () => {
      for (const t of [...taps]) {
        await deleteLink(runner, t);
        taps.delete(t);
      }
    });
    const waitImagesUp = (): Promise<void> => tcpPort(net.imagesIp, 80, { timeoutMs: 30_000, pollMs: 200 }).until();

    log.info('master.net.up', {
      name, bridge: net.bridge, subnet: net.subnet, gatewayIp: net.gatewayIp, dnsmasqIp: net.dnsmasqIp, imagesIp: net.imagesIp, image,
    });
    const m: MasterNetwork = {
      name,
      bridge: net.bridge,
      subnet: net.subnet,
      gatewayIp: net.gatewayIp,
      dnsmasqIp: net.dnsmasqIp,
      domain,
      imagesIp: net.imagesIp,
      brokerIp: net.brokerIp,
      deployIp: net.deployIp,
      imagesUrl: `http://${net.imagesIp}${IMAGES_PATH}`,
      dhcpRange: net.dhcpRange,
      image,
      dnsmasq,
      images,
      addTap: async (tapName) => {
        const t = tapName ?? `fmt${net.octet}-${tapCounter++}`;
        if (t.length > IFNAME_MAX || !/^[\w.-]+$/.test(t)) {
          throw new ForgeError('USAGE', `tap name must be ≤ ${IFNAME_MAX} chars of [A-Za-z0-9_.-], got ${JSON.stringify(t)}`, { field: 'tap' });
        }
        await addTap(runner, t, net.bridge);
        taps.add(t);
        return t;
      },
      removeTap: async (t) => {
        await deleteLink(runner, t);
        taps.delete(t);
      },
      taps: () => [...taps],
      dnsmasqLog: () => containerLogs(runner, dnsmasq.getId()),
      imagesLog: () => containerLogs(runner, images.getId()),
      dhcpAcks: async () => parseDhcpAcks(await containerLogs(runner, dnsmasq.getId())),
      pauseImages: async () => {
        await runner.run(pauseArgv(images.getId()), { timeoutMs: 30_000 });
        imagesPaused = true;
      },
      unpauseImages: async () => {
        await runner.run(unpauseArgv(images.getId()), { timeoutMs: 30_000 });
        imagesPaused = false;
      },
      stopImages: async () => {
        if (imagesPaused) await m.unpauseImages();
        await runner.run(stopArgv(images.getId()), { timeoutMs: 60_000 });
      },
      startImages: async () => {
        await runner.run(startArgv(images.getId()), { timeoutMs: 60_000 });
        await waitImagesUp();
      },
      containment: () => guard.counters(),
      routerSolicitationsAnswered: () => adverts.answered(),
      dispose: () => stack.dispose(),
      [Symbol.asyncDispose]: () => stack.dispose(),
    };
    return m;
  } catch (e) {
    await stack.dispose().catch((cleanupError: unknown) => {
      log.warn('master.net.cleanup_failed', { error: (cleanupError as Error).message });
    });
    if (e instanceof ForgeError) throw e;
    throw new ForgeError('LAB_FAILED', `master network ${name} did not start: ${(e as Error).message}`, { cause: e });
  }
}

/** Force-removes every container carrying this network's label (leftovers of a failed start). */
async function removeLabelled(runner: Runner, name: string): Promise<void> {
  const ids = (await runner.run(psByLabelArgv(`${LAB_LABEL}=${name}`), { timeoutMs: 30_000, readOnly: true })).stdout
    .split('\n').map((s) => s.trim()).filter(Boolean);
  if (ids.length) await runner.run(rmForceArgv(ids), { timeoutMs: 60_000 });
}

/** One file dnsmasq's TFTP server finished sending ("sent /tftp/<file> to <ip>"). */
export interface TftpSent {
  ip: string;
  file: string;
}

const TFTP_SENT_RE = /dnsmasq-tftp\[\d+\]: sent \/tftp\/(\S+) to (\d+\.\d+\.\d+\.\d+)/;

/** The TFTP transfers in dnsmasq's log, in order (file relative to the TFTP root). */
export function parseTftpSent(log: string): TftpSent[] {
  const out: TftpSent[] = [];
  for (const line of log.split('\n')) {
    const m = TFTP_SENT_RE.exec(line);
    if (m?.[1] && m[2]) out.push({ file: m[1], ip: m[2] });
  }
  return out;
}
