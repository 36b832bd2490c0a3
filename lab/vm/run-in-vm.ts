// Runs agent commands inside a throw-away QEMU VM booted from the bootstrap
// ramdisk (direct kernel boot, user networking), driving it through the same task
// exchange the orchestrator uses (protocol.ts) with an in-process mock master,
// which can also serve OS images to the guest (/targetimages).
// For what the host cannot do: LVM and MD need the guest's device-mapper and md.
import type { DiskFaults } from './blockdev.js';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import type { TaskResult } from '../../agent/bootstrap/protocol.js';
import { startNailgun, type MockNode, type StartedNailgun } from '../mocks/nailgun.js';
import { chooseAccel } from './accel.js';
import { bootstrapAppend, guestUrl, requireBootstrapFiles } from './bootstrap-files.js';
import { labMac, startVm, type DiskBus, type StartedVm } from './qemu.js';
import { labVcpus } from './vcpus.js';
import { callback } from './wait.js';

export interface RunInVmDisk {
  sizeMiB: number;
  sectorSize?: 512 | 4096;
  bus?: DiskBus;
  /** Serial number (the guest's by-id links are built from it). */
  serial?: string;
  /** Existing qcow2 (e.g. from a previous run), to re-run against the same disks. */
  file?: string;
  /** Injected hardware faults (EIO on a byte or on flush, a slow disk). */
  faults?: DiskFaults;
  /** Can be pulled while the node runs (`vm.detachDisk`). */
  hotplug?: boolean;
}

export interface VmNodeOptions {
  disks: RunInVmDisk[];
  memMiB?: number;
  /** Boot + discovery timeout (default 4 min). */
  bootTimeoutMs?: number;
  /** Keep the VM directory (disks, serial log) — its path is `dir`. */
  keepDir?: boolean;
  runner?: Runner;
  /** Served to the guest at `imagesUrl` (mock Nailgun's /targetimages). */
  imagesDir?: string;
}

/** A booted bootstrap node: upload files, run argv, read its console. */
export interface VmNode extends AsyncDisposable {
  node: MockNode;
  vm: StartedVm;
  /** Where the guest reaches `imagesDir`: `${imagesUrl}/<file>`. */
  imagesUrl: string;
  dir: string;
  bootMs: number;
  upload(path: string, content: string | Uint8Array): Promise<void>;
  run(argv: string[], o?: { timeoutMs?: number; onLog?: (line: string) => void }): Promise<TaskResult & { log: string[] }>;
  serialText(): string;
  dispose(): Promise<void>;
}

export async function bootVmNode(o: VmNodeOptions): Promise<VmNode> {
  const runner = o.runner ?? new ExecaRunner();
  const boot = requireBootstrapFiles();
  const master: StartedNailgun = await startNailgun(o.imagesDir ? { imagesDir: o.imagesDir } : {});
  const mac = labMac(200);
  let vm: StartedVm | undefined;
  const dispose = async (): Promise<void> => {
    await vm?.dispose();
    await master.close();
  };
  try {
    const accel = await chooseAccel(runner);
    const t0 = Date.now();
    vm = await startVm({
      name: 'run-in-vm',
      accel,
      memMiB: o.memMiB ?? 2048,
      cpus: labVcpus(),
      disks: o.disks.map((d) => ({
        sizeMiB: d.sizeMiB,
        ...(d.sectorSize ? { logicalBlockSize: d.sectorSize } : {}),
        ...(d.bus ? { bus: d.bus } : {}),
        ...(d.serial ? { serial: d.serial } : {}),
        ...(d.file ? { file: d.file } : {}),
        ...(d.faults ? { faults: d.faults } : {}),
        ...(d.hotplug ? { hotplug: true } : {}),
      })),
      // Restricted: the guest reaches the mock master and nothing else.
      nics: [{ mac, netdev: { kind: 'user', hostPorts: [master.port] } }],
      boot: { kind: 'kernel', kernel: boot.kernel, initrd: boot.initrd, append: bootstrapAppend(guestUrl(master.port)) },
    }, { runner, ...(o.keepDir ? { keepDir: true } : {}) });
    const started = vm;
    const node = await started.waitFor(callback(`discovery of ${mac}`, () => master.nodeByMac(mac), {
      timeoutMs: o.bootTimeoutMs ?? 240_000,
      failWhen: started.exited,
    }));
    const withSerial = (e: unknown): never => {
      if (e instanceof ForgeError) e.details['serialTail'] = started.serialText().slice(-3000);
      throw e;
    };
    const handle: VmNode = {
      node,
      vm: started,
      imagesUrl: `${guestUrl(master.port)}/targetimages`,
      dir: started.files.dir,
      bootMs: Date.now() - t0,
      upload: async (path, content) => {
        const t = master.enqueue(mac, { kind: 'upload', path, contentBase64: Buffer.from(content).toString('base64') });
        const r = await master.awaitResult(t.task.id, 60_000).catch(withSerial);
        if (r.exitCode !== 0) throw new ForgeError('LAB_FAILED', `upload of ${path} failed: ${r.stderrTail}`);
      },
      run: async (argv, ro = {}) => {
        const timeoutMs = ro.timeoutMs ?? 600_000;
        const t = master.enqueue(mac, { kind: 'run', argv, timeoutMs });
        const result = await master.awaitResult(t.task.id, timeoutMs + 60_000, ro.onLog).catch(withSerial);
        return { ...result, log: [...t.logLines] };
      },
      serialText: () => started.serialText(),
      dispose,
      [Symbol.asyncDispose]: dispose,
    };
    return handle;
  } catch (e) {
    if (e instanceof ForgeError && vm) e.details['serialTail'] = vm.serialText().slice(-3000);
    await dispose();
    throw e;
  }
}

export interface RunInVmOptions extends VmNodeOptions {
  /** Files written on the node before the tasks run: absolute path → content. */
  uploads?: Record<string, string | Uint8Array>;
  /** argv per task, run in order; a failing task does not stop the next unless stopOnFailure. */
  tasks: string[][];
  stopOnFailure?: boolean;
  /** Per-task timeout (default 10 min). */
  taskTimeoutMs?: number;
  onLog?: (line: string) => void;
}

export interface RunInVmTaskResult {
  argv: string[];
  result: TaskResult;
  /** Log lines the node shipped while the task ran. */
  log: string[];
}

export interface RunInVmResult {
  node: MockNode;
  results: RunInVmTaskResult[];
  serialLog: string;
  vmDir: string;
  timings: { bootMs: number; tasksMs: number };
}

/** Boots a node, uploads, runs the tasks in order, returns their results and disposes the VM. */
export async function runInVm(o: RunInVmOptions): Promise<RunInVmResult> {
  await using n = await bootVmNode(o);
  const t1 = Date.now();
  for (const [path, content] of Object.entries(o.uploads ?? {})) await n.upload(path, content);
  const results: RunInVmTaskResult[] = [];
  for (const argv of o.tasks) {
    const { log, ...result } = await n.run(argv, { timeoutMs: o.taskTimeoutMs ?? 600_000, ...(o.onLog ? { onLog: o.onLog } : {}) });
    results.push({ argv, result, log });
    if (o.stopOnFailure && result.exitCode !== 0) break;
  }
  return { node: n.node, results, serialLog: n.serialText(), vmDir: n.dir, timings: { bootMs: n.bootMs, tasksMs: Date.now() - t1 } };
}
