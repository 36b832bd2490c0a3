// One simulated node, end to end: the real bootstrap daemon (the ramdisk's agent
// bundle) started inside the node's network namespace, discovering itself to mock
// Nailgun and running the tasks it polls for; and Astute's side of the exchange —
// upload provision.json and the node's inventory, `provision partition`, then
// `provision image` (downloads from the master, writes the loop device, verifies
// the checksums; progress followed from its log and PUT to Nailgun), then the
// first-boot call-back. The call-back is cloud-init's on a real node; a simulated
// node never boots its disk, so a `run` task POSTs it from the namespace with curl.
// Never a reboot/poweroff task: the daemon would write /proc/sysrq-trigger of the host.
import { join } from 'node:path';
import { z } from 'zod';
import { ForgeError } from '../../agent/core/errors.js';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import type { Runner, StartedProcess } from '../../agent/core/runner.js';
import type { TaskResult } from '../../agent/bootstrap/protocol.js';
import { computedDigests } from '../../agent/image/hashers.js';
import { singleDiskData, singleDiskInventory } from '../../agent/testing/single-disk.js';
import type { MockNode, StartedNailgun, TaskInput } from '../mocks/nailgun.js';
import { astuteProgress, putNode } from '../orchestrator.js';
import { pollUntil } from '../vm/wait.js';
import type { FleetAgent } from './fleet-agent.js';
import type { FleetImage } from './fleet-image.js';
import { nsExec, type FleetNode } from './fleet-net.js';
import type { Marks } from './fleet-stats.js';
import { agentNodeArgv } from '../../agent/core/node-flags.js';

const MiB = 1 << 20;

export const FLEET_TIMEOUTS = {
  discovery: 10 * 60_000,
  upload: 5 * 60_000,
  partition: 20 * 60_000,
  image: 60 * 60_000,
  callback: 5 * 60_000,
};

export interface FleetEnv {
  runner: Runner;
  nailgun: StartedNailgun;
  agent: FleetAgent;
  image: FleetImage;
  /** Where node-side files go (each node has its own sub-directory). */
  workDir: string;
  signal: AbortSignal;
}

export interface FleetDisk {
  device: string;
  sizeMiB: number;
  rootMiB: number;
}

export interface WrittenImage {
  device: string;
  bytes: number;
  /** What the agent computed: the strongest digest the metadata gives (sha256 here). */
  md5?: string;
  sha256?: string;
  verified: boolean;
}

export interface NodeRecord {
  name: string;
  ns: string;
  ip: string;
  mac: string;
  disk: string;
  ok: boolean;
  /** The stage that failed, and why. */
  failedAt?: string;
  error?: string;
  /** When each step was reached (fleet-stats.ts MARKS). */
  marks: Marks;
  written?: WrittenImage;
  /** Last lines of the daemon's stderr, for a failure. */
  daemonTail?: string;
}

/** `provision image --json`'s report, the fields read here. */
const imageReports = z.array(z.looseObject({ device: z.string(), bytes: z.number(), md5: z.string().optional(), sha256: z.string().optional(), verified: z.boolean() }));

/** Sizes the node's disk for the image: fuel-agent's single-disk geometry around a root 16 MiB larger. */
export function fleetDiskMiB(rawSize: number): { sizeMiB: number; rootMiB: number } {
  const rootMiB = Math.ceil(rawSize / MiB) + 16;
  return { rootMiB, sizeMiB: 1 + 24 + 1 + 200 + 1 + 200 + 1 + rootMiB + 1 + 64 + 1 + 20 + 8 };
}

class StageFailed extends ForgeError {
  constructor(readonly stage: string, message: string, cause?: unknown) {
    super('LAB_FAILED', message, cause === undefined ? {} : { cause });
  }
}

/** `p`, or the signal's reason once it aborts (mock Nailgun's waits take no signal). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function task(env: FleetEnv, mac: string, stage: string, input: TaskInput, timeoutMs: number, onLog?: (l: string) => void): Promise<TaskResult & { dispatchedAt: number | undefined }> {
  const t = env.nailgun.enqueue(mac, input);
  let r: TaskResult;
  try {
    r = await abortable(env.nailgun.awaitResult(t.task.id, timeoutMs, onLog), env.signal);
  } catch (e) {
    throw new StageFailed(stage, e instanceof Error ? e.message : String(e), e);
  }
  if (r.exitCode !== 0) {
    const why = r.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ');
    throw new StageFailed(stage, `exit ${r.exitCode}: ${why}`);
  }
  return { ...r, dispatchedAt: t.dispatchedAt };
}

function startDaemon(env: FleetEnv, node: FleetNode): StartedProcess {
  const argv = nsExec(node.ns, [...agentNodeArgv(process.execPath, env.agent.bundle), 'bootstrap-daemon', '--cmdline', `forge.master=${env.nailgun.url}`]);
  // Own process group: stopping the node stops whatever task it is running too.
  return env.runner.start(argv, { group: true, env: { PATH: `${env.agent.binDir}:${process.env['PATH'] ?? '/usr/bin:/bin'}` } });
}

async function stopDaemon(p: StartedProcess): Promise<void> {
  p.kill('SIGTERM');
  const killed = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
  if (!killed) {
    p.kill('SIGKILL');
    await p.exited;
  }
}

/** Provisions one node; never throws: a failure is recorded with its stage. */
export async function provisionFleetNode(env: FleetEnv, node: FleetNode, disk: FleetDisk): Promise<NodeRecord> {
  const rec: NodeRecord = { name: node.name, ns: node.ns, ip: node.ip, mac: node.mac, disk: disk.device, ok: false, marks: { started: Date.now() } };
  let daemon: StartedProcess | undefined;
  let mock: MockNode | undefined;
  try {
    daemon = startDaemon(env, node);
    const started = daemon;
    let exit: string | undefined;
    void started.exited.then((x) => (exit = `the node's agent exited ${x.exitCode}${x.signal ? ` (${x.signal})` : ''}`));
    mock = await pollUntil(`discovery of ${node.name} (${node.mac})`, async () => env.nailgun.nodeByMac(node.mac), {
      timeoutMs: FLEET_TIMEOUTS.discovery, signal: env.signal, pollMs: 100, failWhen: () => exit,
    }).catch((e: unknown) => {
      throw new StageFailed('discovery', e instanceof Error ? e.message : String(e), e);
    });
    const found = mock;
    rec.marks.discovered = Date.now();

    const dir = join(env.workDir, node.name);
    const input = join(dir, 'provision.json');
    const inventory = join(dir, 'inventory.json');
    const uri = `${env.nailgun.url}/targetimages/${env.image.file}`;
    // No digests in image_data: the agent reads them from the metadata the master serves beside the image.
    const data = singleDiskData(disk.device, disk.sizeMiB, disk.rootMiB, uri, {});
    env.nailgun.setProvisionData(found.id, data);
    const upload = (path: string, content: string): TaskInput => ({ kind: 'upload', path, contentBase64: Buffer.from(content).toString('base64') });
    // Both files queued at once: the daemon takes the second on its next poll, right after the first.
    await Promise.all([
      task(env, node.mac, 'upload', upload(input, JSON.stringify(data)), FLEET_TIMEOUTS.upload),
      task(env, node.mac, 'upload', upload(inventory, JSON.stringify(singleDiskInventory(disk.device, disk.sizeMiB))), FLEET_TIMEOUTS.upload),
    ]);
    rec.marks.uploaded = Date.now();
    await putNode(env.nailgun, found.id, { status: 'provisioning', progress: 0 });
    const args = ['--input', input, '--inventory', inventory];
    await task(env, node.mac, 'partition', { kind: 'run', argv: ['provision', 'partition', ...args], timeoutMs: FLEET_TIMEOUTS.partition }, FLEET_TIMEOUTS.partition + 30_000);
    rec.marks.partitioned = Date.now();

    const onLog = astuteProgress((progress) => void putNode(env.nailgun, found.id, { progress }).catch(() => undefined));
    // --no-resize: growing the filesystem would rewrite metadata the host compares afterwards.
    const imageArgv = ['provision', 'image', ...args, '--no-resize', '--json'];
    const img = await task(env, node.mac, 'image', { kind: 'run', argv: imageArgv, timeoutMs: FLEET_TIMEOUTS.image }, FLEET_TIMEOUTS.image + 30_000, onLog);
    rec.marks.imaged = Date.now();
    if (img.dispatchedAt !== undefined) rec.marks.imageStarted = img.dispatchedAt;
    const reports = parseJsonAs(imageReports, img.stdout, { command: imageArgv });
    const w = reports[0];
    if (reports.length !== 1 || !w) throw new StageFailed('image', `expected one image report, got ${reports.length}`);
    rec.written = { device: w.device, bytes: w.bytes, ...computedDigests({ md5: w.md5, sha256: w.sha256 }), verified: w.verified };

    // Timed by the master's side: the moment the POST is seen, not when the task's result arrives.
    const body = JSON.stringify({ node: node.name, uid: String(found.id) });
    let taskOver = false;
    const callback = pollUntil(`call-back of ${node.name}`, async () => (found.provisioned.length ? Date.now() : undefined), {
      timeoutMs: FLEET_TIMEOUTS.callback, signal: env.signal, pollMs: 20, failWhen: () => (taskOver ? 'the call-back task ended without one' : undefined),
    });
    callback.catch(() => undefined);
    try {
      await task(env, node.mac, 'callback', {
        kind: 'run',
        argv: ['curl', '-fsS', '--max-time', '30', '-X', 'POST', '-H', 'content-type: application/json', '--data-binary', body, `${env.nailgun.url}/api/nodes/${found.id}/provisioned`],
        timeoutMs: 60_000,
      }, FLEET_TIMEOUTS.callback);
    } finally {
      taskOver = true;
    }
    rec.marks.calledBack = await callback.catch((e: unknown) => {
      throw new StageFailed('callback', e instanceof Error ? e.message : String(e), e);
    });
    rec.ok = true;
  } catch (e) {
    rec.failedAt = e instanceof StageFailed ? e.stage : 'fleet';
    rec.error = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
    if (mock) await putNode(env.nailgun, mock.id, { status: 'error', error_type: 'provision', error_msg: rec.error.slice(0, 500) }).catch(() => undefined);
  } finally {
    if (daemon) {
      if (!rec.ok) rec.daemonTail = daemon.stderrTail().slice(-2000);
      await stopDaemon(daemon);
    }
  }
  return rec;
}
