// One lab environment, laid out like a Fuel master: dnsmasq (DHCP + TFTP) and the
// OS-image HTTP server run in containers on one docker bridge (lab/master/); mock
// Nailgun (REST, task exchange, first-boot call-back) and mock Cobbler (XML-RPC,
// writes the TFTP root dnsmasq serves, drives VM power) run in this process and
// listen on the host's address on that bridge. The deployment side of the master
// (RabbitMQ for mcollective, rsyncd with the puppet code, the mco client; lab/
// master/deploy-services.ts) starts once per lab, with the lab's SSH key. Each node is a QEMU VM whose NICs
// are taps on the bridge, so several nodes share one L2 segment. Disposing the
// lab stops every VM, server and container and removes temp files, and throws
// (LAB_FAILED) naming whatever could not be released.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../agent/core/cleanup.js';
import { ForgeError } from '../agent/core/errors.js';
import type { Runner } from '../agent/core/runner.js';
import type { DeployEnv } from './deploy/deploy.js';
import { createLabKey } from './deploy/ssh.js';
import type { McoSettings } from './master/deploy-config.js';
import { startDeployServices } from './master/deploy-services.js';
import { startMasterNetwork, type MasterNetwork } from './master/master-net.js';
import { CobblerClient, startCobbler, type StartedCobbler } from './mocks/cobbler.js';
import { startNailgun, type StartedNailgun } from './mocks/nailgun.js';
import type { OrchestratorEnv } from './orchestrator.js';
import { labMcoSettings, type LabNode } from './scenario.js';
import type { Stages } from './stages.js';
import { chooseAccel } from './vm/accel.js';
import { bootstrapAppend, type BootstrapFiles } from './vm/bootstrap-files.js';
import { startVm, type StartedVm, type VmDiskSpec } from './vm/qemu.js';
import { labVcpus } from './vm/vcpus.js';
import { profileSpec } from '../agent/host/image/profiles.js';
import type { Inventory } from '../agent/inventory/types.js';
import { classicKickstart } from './classic/kickstart.js';
import { archiveCheckError, checkInstallerArchive, DI_FILES, INSTALLER_APPEND, placeInstallerFiles } from './classic/installer.js';
import { INSTALLER_COMPONENTS } from './classic/preseed.js';
import { APT_PROXY_PORT, ARCHIVE_DIRECTORY, startAptProxy, type AptProxy } from './master/apt-proxy.js';
import { DEFAULT_PROFILES } from './mocks/provision-rpc.js';
import { writeOwnerMark } from './owner-mark.js';

export interface LabNodeSpec {
  name: string;
  macs: string[];
  disks: VmDiskSpec[];
  memMiB?: number;
  firmware?: 'bios' | 'uefi';
  /** UEFI with Secure Boot enforced (Microsoft's keys): PXE through shim and Debian's signed GRUB. */
  secureBoot?: boolean;
}

export interface Lab extends AsyncDisposable {
  nailgun: StartedNailgun;
  cobbler: StartedCobbler;
  client: CobblerClient;
  master: MasterNetwork;
  dir: string;
  vms: Map<string, StartedVm>;
  addNode(spec: LabNodeSpec): void;
  /**
   * Cuts a node's power: its QEMU stops (the guest's RAM goes with it) and a new one
   * powers it on from the same disk files, as a real node after a power loss. Not a QMP
   * reset: a reset keeps QEMU's translations of the old RAM, and the next boot pays for
   * invalidating them as it overwrites that RAM (an initramfs unpack 10 → 50 s; NOTES).
   */
  powerCut(name: string): Promise<void>;
  /** The last `chars` of a node's serial console ('' before it first powers on). */
  serialTail(name: string, chars?: number): string;
  /** URL of mock Nailgun as guests (and the host) see it. */
  masterUrl: string;
  /** Base URL of the image server container: `${imagesUrl}/<file>`. */
  imagesUrl: string;
  /** The master's SSH key, broker, puppet code and mco client. */
  deploy: DeployEnv;
  /** How nodeData() should point a node at this lab's master (Nailgun, DNS, broker, key). */
  nodeFor(uid: string, hostname: string, macs: string[]): LabNode;
  /**
   * Classic method's pre_provision (once per lab): the installer's kernel and
   * initrd into Cobbler's Debian profile, the master's Debian archive (a caching
   * proxy of the host's mirror) started, and checked to serve every installer
   * component the installer will download — refused, naming them, otherwise.
   */
  prepareClassic(o?: { checkArchive?: boolean }): Promise<AptProxy>;
  dispose(): Promise<void>;
}

export interface LabOptions {
  runner: Runner;
  bootstrap: BootstrapFiles;
  /** Served by the image server container under /targetimages/. */
  imagesDir: string;
  /** Keep the lab directory (VM disks, serial logs) after disposal. */
  keepDir?: boolean;
  /** The broker's mcollective account; default the lab data's (labMcoSettings()). */
  mco?: McoSettings;
}

/** The orchestrator's view of a lab: its mocks, the caller's stage timer and log, and the nodes' consoles. */
export function orchestratorEnv(lab: Lab, stages: Stages, log: (line: string) => void): OrchestratorEnv {
  return { nailgun: lab.nailgun, cobbler: lab.client, stages, log, serialTail: (name, chars) => lab.serialTail(name, chars) };
}

export async function startLab(o: LabOptions): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-lab-'));
  // `lab ls`/`lab down`: a killed run's directory is a leftover unless it was to be kept.
  writeOwnerMark(dir, !o.keepDir);
  const tftpRoot = join(dir, 'tftp');
  mkdirSync(tftpRoot, { recursive: true });
  const specs = new Map<string, LabNodeSpec>();
  const taps = new Map<string, string[]>();
  const vms = new Map<string, StartedVm>();
  // Released in reverse: VMs, mocks, master network, then the directory.
  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  if (!o.keepDir) stack.defer(`lab directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const dispose = (): Promise<void> => stack.dispose();
  try {
    const accel = await chooseAccel(o.runner);
    const master = await startMasterNetwork({ runner: o.runner, tftpRoot, imagesDir: o.imagesDir });
    stack.defer(`master network ${master.name}`, () => master.dispose());
    const services = await startDeployServices({ runner: o.runner, master, mco: o.mco ?? labMcoSettings() });
    stack.defer('deployment services', () => services.dispose());
    const key = await createLabKey(o.runner, dir);
    const deploy: DeployEnv = {
      runner: o.runner,
      key,
      services,
      nodeIp: async (mac) => (await master.dhcpAcks()).filter((a) => a.mac === mac.toLowerCase()).at(-1)?.ip,
    };
    const host = master.gatewayIp;
    // Its state on disk, as a real Nailgun's database: a restart mid-provisioning reloads it.
    const nailgun = await startNailgun({ host, stateFile: join(dir, 'nailgun-state.json') });
    stack.defer('mock Nailgun', () => nailgun.close());
    const masterUrl = `http://${host}:${nailgun.port}`;
    const nicsOf = async (spec: LabNodeSpec): Promise<{ mac: string; netdev: { kind: 'tap'; ifname: string } }[]> => {
      // Taps outlive power cycles: a node keeps its ports on the switch.
      let t = taps.get(spec.name);
      if (!t) {
        t = [];
        for (const _ of spec.macs) t.push(await master.addTap());
        taps.set(spec.name, t);
      }
      return spec.macs.map((mac, i) => ({ mac, netdev: { kind: 'tap', ifname: (t as string[])[i] as string } }));
    };
    /** A new QEMU for the node (its current one stopped first), on its disk files (created at the first power-on; kept across power cycles). */
    const freshNodeVm = async (spec: LabNodeSpec): Promise<void> => {
      // A node this lab already ran keeps one console across its QEMUs (waits hold offsets into it).
      const again = vms.has(spec.name);
      await vms.get(spec.name)?.dispose();
      const vmDir = join(dir, 'vm-' + spec.name);
      vms.set(spec.name, await startVm({
        name: spec.name,
        accel,
        memMiB: spec.memMiB ?? 2048,
        cpus: labVcpus(),
        // Disks outlive QEMU: powering a stopped node on (a kept lab) boots what is on them.
        disks: spec.disks.map((d, i) => ({ ...d, file: d.file ?? join(vmDir, `disk${i}.qcow2`) })),
        nics: await nicsOf(spec),
        boot: { kind: 'pxe' },
        ...(spec.firmware ? { firmware: spec.firmware } : {}),
        ...(spec.secureBoot ? { secureBoot: true } : {}),
        ...(again ? { appendSerial: true } : {}),
      }, { runner: o.runner, dir: vmDir, keepDir: true }));
    };
    const installerDir = join(dir, 'cobbler', DEFAULT_PROFILES.os);
    mkdirSync(installerDir, { recursive: true });
    // The master's Debian archive as nodes reach it: apt-cacher-ng on the host's bridge address.
    const archive = { host: `${host}:${APT_PROXY_PORT}`, directory: ARCHIVE_DIRECTORY, suite: 'bookworm' };
    const cobbler = await startCobbler({
      host,
      tftpRoot,
      profiles: {
        [DEFAULT_PROFILES.bootstrap]: { dir: o.bootstrap.dir, append: bootstrapAppend(masterUrl), distro: 'bootstrap-2' },
        [DEFAULT_PROFILES.os]: {
          dir: installerDir, kernel: DI_FILES.kernel, initrd: DI_FILES.initrd, distro: 'debian12-installer', append: INSTALLER_APPEND,
          kickstart: classicKickstart({
            inventoryOf: (sys) => {
              const mac = Object.values(sys.interfaces).map((i) => i['mac_address']).find(Boolean);
              return mac ? (nailgun.nodeByMac(mac)?.inventory as Inventory | undefined) : undefined;
            },
            mirror: archive,
            packages: profileSpec('deploy').packages,
          }),
        },
      },
      guestBaseUrl: (port) => `http://${host}:${port}`,
      power: async (sys, action) => {
        const spec = specs.get(sys.name);
        if (!spec) throw new ForgeError('LAB_FAILED', `no VM for system ${sys.name}`);
        const vm = vms.get(sys.name);
        if (action === 'status') return vm && !vm.exited() ? ((await vm.status()).running ? 'on' : 'off') : 'off';
        if (action === 'off') {
          if (vm) await vm.powerdown();
          return true;
        }
        if (action === 'on' && vm && !vm.exited() && (await vm.status()).running) return true;
        // Power-on and reboot start a new QEMU on the node's disks, as a power cycle, not a
        // QMP reset: a reset keeps QEMU's translations of the old RAM, and the next boot
        // pays for invalidating them as it overwrites that RAM (see powerCut).
        await freshNodeVm(spec);
        return true;
      },
    });
    stack.defer('mock Cobbler', () => cobbler.close());
    nailgun.cluster.engine = { url: `${cobbler.url}/cobbler_api`, username: 'cobbler', password: 'cobbler', master_ip: host };
    let archiveProxy: Promise<AptProxy> | undefined;
    const prepareClassic = async (p: { checkArchive?: boolean } = {}): Promise<AptProxy> => {
      archiveProxy ??= (async () => {
        await placeInstallerFiles(installerDir);
        const proxy = await startAptProxy({ runner: o.runner, bindAddress: host, port: APT_PROXY_PORT });
        stack.defer('Debian archive (apt-cacher-ng)', () => proxy.dispose());
        return proxy;
      })();
      const proxy = await archiveProxy;
      if (p.checkArchive ?? true) {
        // The URL the preseed gives the node (archive.host + directory) is the proxy's own.
        const err = archiveCheckError(await checkInstallerArchive({ archiveUrl: proxy.url, suite: archive.suite, wanted: INSTALLER_COMPONENTS }), proxy.url);
        if (err) throw err;
      }
      return proxy;
    };
    // VMs come and go with power actions: release whichever are current, each reported.
    stack.defer('VMs', async () => {
      const each = new CleanupStack({ code: 'LAB_FAILED' });
      for (const [name, vm] of vms) each.defer(`vm ${name}`, () => vm.dispose());
      await each.dispose();
    });
    const lab: Lab = {
      nailgun,
      cobbler,
      client: new CobblerClient(cobbler.url),
      master,
      dir,
      vms,
      addNode: (s) => {
        specs.set(s.name, s);
      },
      serialTail: (name, chars = 4000) => vms.get(name)?.serialText().slice(-chars) ?? '',
      powerCut: async (name) => {
        const spec = specs.get(name);
        if (!spec || !vms.has(name)) throw new ForgeError('LAB_FAILED', `no running VM for node ${name}`);
        await freshNodeVm(spec);
      },
      masterUrl,
      imagesUrl: master.imagesUrl,
      deploy,
      prepareClassic,
      nodeFor: (uid, hostname, macs) => ({
        uid, hostname, macs, masterUrl, nameServer: master.dnsmasqIp, mcoHost: master.brokerIp, publicKey: key.publicKey,
      }),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
    return lab;
  } catch (e) {
    return await stack.unwind(e);
  }
}
