// One lab environment on QEMU user networking: mock Nailgun (REST, task exchange,
// /targetimages), mock Cobbler (XML-RPC + TFTP root used as QEMU's TFTP) and the
// VMs, whose power Cobbler's power_system drives. Guests reach the host's mocks at
// 10.0.2.2. Disposing the lab stops every VM and server and removes temp files.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForgeError } from '../agent/core/errors.js';
import type { Runner } from '../agent/core/runner.js';
import { CobblerClient, startCobbler, type StartedCobbler } from './mocks/cobbler.js';
import { startNailgun, type StartedNailgun } from './mocks/nailgun.js';
import { chooseAccel } from './vm/accel.js';
import { bootstrapAppend, guestUrl, type BootstrapFiles } from './vm/bootstrap-files.js';
import { startVm, type StartedVm, type VmDiskSpec } from './vm/qemu.js';

export interface LabNodeSpec {
  name: string;
  macs: string[];
  disks: VmDiskSpec[];
  memMiB?: number;
}

export interface Lab extends AsyncDisposable {
  nailgun: StartedNailgun;
  cobbler: StartedCobbler;
  client: CobblerClient;
  dir: string;
  vms: Map<string, StartedVm>;
  addNode(spec: LabNodeSpec): void;
  /** URL of the master as guests see it. */
  masterUrl: string;
  dispose(): Promise<void>;
}

export async function startLab(o: { runner: Runner; bootstrap: BootstrapFiles; imagesDir: string; keepDir?: boolean }): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-lab-'));
  const specs = new Map<string, LabNodeSpec>();
  const vms = new Map<string, StartedVm>();
  const accel = await chooseAccel(o.runner);
  const cleanup: (() => Promise<void>)[] = [];
  const dispose = async (): Promise<void> => {
    for (const vm of vms.values()) await vm.dispose().catch(() => undefined);
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nailgun = await startNailgun({ imagesDir: o.imagesDir });
    cleanup.push(() => nailgun.close());
    const tftpRoot = join(dir, 'tftp');
    const cobbler = await startCobbler({
      tftpRoot,
      profiles: { bootstrap: { dir: o.bootstrap.dir, append: bootstrapAppend(guestUrl(nailgun.port)) } },
      guestBaseUrl: guestUrl,
      power: async (sys, action) => {
        const spec = specs.get(sys.name);
        if (!spec) throw new ForgeError('LAB_FAILED', `no VM for system ${sys.name}`);
        const vm = vms.get(sys.name);
        if (action === 'status') return vm && !vm.exited() ? (await vm.status()).running ? 'on' : 'off' : 'off';
        if (action === 'off') {
          if (vm) await vm.powerdown();
          return true;
        }
        if (!vm || vm.exited()) {
          if (vm) await vm.dispose();
          vms.set(sys.name, await startVm({
            name: spec.name,
            accel,
            memMiB: spec.memMiB ?? 2048,
            cpus: 2,
            disks: spec.disks,
            nics: spec.macs.map((mac, i) => ({ mac, netdev: i === 0 ? { kind: 'user', tftpRoot, bootfile: 'boot.ipxe' } : { kind: 'user' } })),
            boot: { kind: 'pxe' },
          }, { runner: o.runner, dir: join(dir, 'vm-' + spec.name), keepDir: true }));
          return true;
        }
        if (action === 'reboot') await vm.reset();
        else await vm.powerOn();
        return true;
      },
    });
    cleanup.push(() => cobbler.close());
    return {
      nailgun,
      cobbler,
      client: new CobblerClient(cobbler.url),
      dir,
      vms,
      addNode: (s) => {
        specs.set(s.name, s);
      },
      masterUrl: guestUrl(nailgun.port),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (e) {
    await dispose();
    throw e;
  }
}
