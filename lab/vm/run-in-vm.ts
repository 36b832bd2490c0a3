// Runs agent commands inside a throw-away QEMU VM booted from the bootstrap
// ramdisk (direct kernel boot, user networking), driving it through the same task
// exchange the orchestrator uses (protocol.ts) with an in-process mock master.
// For what the host cannot do: LVM and MD need the guest's device-mapper and md.
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import type { TaskResult } from '../../agent/bootstrap/protocol.js';
import { startNailgun, type MockNode } from '../mocks/nailgun.js';
import { chooseAccel } from './accel.js';
import { bootstrapAppend, guestUrl, requireBootstrapFiles } from './bootstrap-files.js';
import { labMac, startVm, type DiskBus } from './qemu.js';
import { callback } from './wait.js';

export interface RunInVmDisk {
  sizeMiB: number;
  sectorSize?: 512 | 4096;
  bus?: DiskBus;
  /** Existing qcow2 (e.g. from a previous run), to re-run against the same disks. */
  file?: string;
}

export interface RunInVmOptions {
  disks: RunInVmDisk[];
  /** Files written on the node before the tasks run: absolute path → content. */
  uploads?: Record<string, string | Uint8Array>;
  /** argv per task, run in order; a failing task does not stop the next unless stopOnFailure. */
  tasks: string[][];
  stopOnFailure?: boolean;
  memMiB?: number;
  /** Per-task timeout (default 10 min). */
  taskTimeoutMs?: number;
  /** Boot + discovery timeout (default 4 min). */
  bootTimeoutMs?: number;
  /** Keep the VM directory (disks, serial log) — its path is in the result. */
  keepDir?: boolean;
  onLog?: (line: string) => void;
  runner?: Runner;
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

export async function runInVm(o: RunInVmOptions): Promise<RunInVmResult> {
  const runner = o.runner ?? new ExecaRunner();
  const boot = requireBootstrapFiles();
  await using master = await startNailgun();
  const mac = labMac(200);
  const accel = await chooseAccel(runner);
  const t0 = Date.now();
  await using vm = await startVm({
    name: 'run-in-vm',
    accel,
    memMiB: o.memMiB ?? 2048,
    cpus: 2,
    disks: o.disks.map((d) => ({
      sizeMiB: d.sizeMiB,
      ...(d.sectorSize ? { logicalBlockSize: d.sectorSize } : {}),
      ...(d.bus ? { bus: d.bus } : {}),
      ...(d.file ? { file: d.file } : {}),
    })),
    nics: [{ mac, netdev: { kind: 'user' } }],
    boot: { kind: 'kernel', kernel: boot.kernel, initrd: boot.initrd, append: bootstrapAppend(guestUrl(master.port)) },
  }, { runner, ...(o.keepDir ? { keepDir: true } : {}) });
  try {
    const node = await vm.waitFor(callback(`discovery of ${mac}`, () => master.nodeByMac(mac), {
      timeoutMs: o.bootTimeoutMs ?? 240_000,
      failWhen: vm.exited,
    }));
    const bootMs = Date.now() - t0;
    const t1 = Date.now();
    for (const [path, content] of Object.entries(o.uploads ?? {})) {
      const t = master.enqueue(mac, { kind: 'upload', path, contentBase64: Buffer.from(content).toString('base64') });
      const r = await master.awaitResult(t.task.id, 60_000);
      if (r.exitCode !== 0) throw new ForgeError('LAB_FAILED', `upload of ${path} failed: ${r.stderrTail}`);
    }
    const results: RunInVmTaskResult[] = [];
    for (const argv of o.tasks) {
      const timeoutMs = o.taskTimeoutMs ?? 600_000;
      const t = master.enqueue(mac, { kind: 'run', argv, timeoutMs });
      const result = await master.awaitResult(t.task.id, timeoutMs + 60_000, o.onLog);
      results.push({ argv, result, log: [...t.logLines] });
      if (o.stopOnFailure && result.exitCode !== 0) break;
    }
    return { node, results, serialLog: vm.serialText(), vmDir: vm.files.dir, timings: { bootMs, tasksMs: Date.now() - t1 } };
  } catch (e) {
    if (e instanceof ForgeError) e.details['serialTail'] = vm.serialText().slice(-3000);
    throw e;
  }
}
