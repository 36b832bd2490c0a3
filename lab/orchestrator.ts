// Astute's role: provisions one node through mock Cobbler and mock Nailgun —
// register with netboot on, power on (PXE), wait for discovery, upload
// provision.json, run `provision`, follow its log, check the report, verify on the
// node, disable netboot, reboot, wait for the first-boot call-back. Each stage has
// its own timeout and is timed; a failure is reported to Nailgun and leaves
// netboot enabled, as Astute does.
import type { TaskResult } from '../agent/bootstrap/protocol.js';
import { ForgeError } from '../agent/core/errors.js';
import type { CobblerClient } from './mocks/cobbler.js';
import type { MockNode, StartedNailgun } from './mocks/nailgun.js';
import type { Stages } from './stages.js';
import { pollUntil } from './vm/wait.js';

export interface NodeTimeouts {
  register: number;
  discovery: number;
  upload: number;
  provision: number;
  verify: number;
  firstBoot: number;
}

export const DEFAULT_TIMEOUTS: NodeTimeouts = {
  register: 30_000,
  discovery: 6 * 60_000,
  upload: 60_000,
  provision: 20 * 60_000,
  verify: 5 * 60_000,
  firstBoot: 10 * 60_000,
};

export interface OrchestratedNode {
  name: string;
  hostname: string;
  macs: string[];
  profile: string;
  /** Builds the node's provision data once Nailgun assigned it an id. */
  provisionData: (nailgunId: number) => Record<string, unknown>;
  /** Extra argv after `provision run` (e.g. --allow-unverified). */
  runArgs?: string[];
  /** Files uploaded before provision.json (absolute node path → content). */
  extraUploads?: Record<string, string | Uint8Array>;
}

export interface NodeOutcome {
  node: MockNode;
  provision: TaskResult;
  report: unknown;
  verify: TaskResult | undefined;
  firstBoot: unknown;
}

export interface OrchestratorEnv {
  nailgun: StartedNailgun;
  cobbler: CobblerClient;
  stages: Stages;
  log: (line: string) => void;
  timeouts?: Partial<NodeTimeouts>;
  /** Stop after the node verified itself (no reboot): bad-path scenarios. */
  skipReboot?: boolean;
  /** Skip the on-node `provision verify`. */
  skipVerify?: boolean;
}

export const PROVISION_JSON = '/tmp/provision.json';

async function runTask(env: OrchestratorEnv, mac: string, argv: string[], timeoutMs: number, onLine?: (l: string) => void): Promise<TaskResult> {
  const t = env.nailgun.enqueue(mac, { kind: 'run', argv, timeoutMs });
  return env.nailgun.awaitResult(t.task.id, timeoutMs + 30_000, onLine);
}

function parseReport(stdout: string): unknown {
  const text = stdout.trim();
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    return JSON.parse(text.slice(start));
  } catch {
    return undefined;
  }
}

export async function provisionNode(env: OrchestratorEnv, n: OrchestratedNode): Promise<NodeOutcome> {
  const to = { ...DEFAULT_TIMEOUTS, ...env.timeouts };
  const mac = n.macs[0] as string;
  const { nailgun, cobbler, stages } = env;

  await stages.run(`${n.name}: cobbler register+sync`, to.register, async () => {
    await cobbler.login();
    await cobbler.upsertSystem({ name: n.name, hostname: n.hostname, profile: n.profile, netbootEnabled: true, macs: Object.fromEntries(n.macs.map((m, i) => [`eth${i}`, m])) });
    await cobbler.sync();
  });
  const discoveriesBefore = nailgun.nodeByMac(mac)?.discoveries ?? 0;
  await stages.run(`${n.name}: power on`, to.register, async () => {
    await cobbler.power(n.name, 'on');
  });
  const node = await stages.run(`${n.name}: PXE boot + discovery`, to.discovery, (signal) =>
    pollUntil(`discovery of ${mac}`, async () => {
      const x = nailgun.nodeByMac(mac);
      return x && x.discoveries > discoveriesBefore ? x : undefined;
    }, { timeoutMs: to.discovery, signal, pollMs: 500 }));

  const data = n.provisionData(node.id);
  nailgun.setProvisionData(node.id, data);
  await stages.run(`${n.name}: upload provision.json`, to.upload, async () => {
    for (const [path, content] of Object.entries(n.extraUploads ?? {})) {
      const u = nailgun.enqueue(mac, { kind: 'upload', path, contentBase64: Buffer.from(content).toString('base64') });
      const r = await nailgun.awaitResult(u.task.id, to.upload);
      if (r.exitCode !== 0) throw new ForgeError('LAB_FAILED', `upload of ${path} failed on ${n.name}: ${r.stderrTail}`);
    }
    const t = nailgun.enqueue(mac, { kind: 'upload', path: PROVISION_JSON, contentBase64: Buffer.from(JSON.stringify(data, null, 2)).toString('base64') });
    const r = await nailgun.awaitResult(t.task.id, to.upload);
    if (r.exitCode !== 0) throw new ForgeError('LAB_FAILED', `upload failed on ${n.name}: ${r.stderrTail}`);
  });

  const put = (body: Record<string, unknown>): Promise<unknown> =>
    fetch(`${nailgun.url}/api/nodes/${node.id}`, { method: 'PUT', body: JSON.stringify(body) }).then((r) => r.json());
  await put({ status: 'provisioning', progress: 0 });
  let lines = 0;
  const provision = await stages.run(`${n.name}: provision`, to.provision, async () => {
    const r = await runTask(env, mac, ['provision', 'run', '--input', PROVISION_JSON, ...(n.runArgs ?? [])], to.provision, (l) => {
      lines++;
      env.log(`  [${n.name}] ${summarizeLogLine(l)}`);
      if (lines % 10 === 0) void put({ progress: Math.min(90, lines) });
    });
    if (r.exitCode !== 0) {
      // Astute: mark the node failed, leave netboot on so it stays in bootstrap.
      await put({ status: 'error', error_type: 'provision', error_msg: r.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ') });
      throw new ForgeError('LAB_FAILED', `provision failed on ${n.name} (exit ${r.exitCode})`, {
        details: { report: parseReport(r.stdout), stderrTail: r.stderrTail.slice(-1500), nodeId: node.id },
      });
    }
    return r;
  });
  const report = parseReport(provision.stdout);

  let verify: TaskResult | undefined;
  if (!env.skipVerify) {
    verify = await stages.run(`${n.name}: provision verify (node)`, to.verify, () =>
      runTask(env, mac, ['provision', 'verify', '--input', PROVISION_JSON], to.verify));
    if (verify.exitCode !== 0) {
      await put({ status: 'error', error_type: 'provision', error_msg: 'verify failed' });
      throw new ForgeError('VERIFY_MISMATCH', `provision verify failed on ${n.name}`, { details: { stdout: verify.stdout, stderrTail: verify.stderrTail } });
    }
  }
  if (env.skipReboot) return { node, provision, report, verify, firstBoot: undefined };

  await stages.run(`${n.name}: disable netboot + sync`, to.register, async () => {
    await cobbler.setNetboot(n.name, false);
    await cobbler.sync();
  });
  const callbacksBefore = node.provisioned.length;
  await stages.run(`${n.name}: reboot`, to.register, async () => {
    await cobbler.power(n.name, 'reboot');
  });
  const firstBoot = await stages.run(`${n.name}: first boot (cloud-init)`, to.firstBoot, (signal) =>
    pollUntil(`first-boot call-back from ${n.name}`, async () => node.provisioned[callbacksBefore], { timeoutMs: to.firstBoot, signal, pollMs: 1000 }));
  return { node, provision, report, verify, firstBoot };
}

/** The agent logs JSON lines; show event + a few fields, not the whole object. */
export function summarizeLogLine(l: string): string {
  try {
    const e = JSON.parse(l) as Record<string, unknown>;
    const { ts: _ts, level, event, ...rest } = e;
    const extra = Object.entries(rest).slice(0, 4).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v).slice(0, 60) : String(v)}`).join(' ');
    return `${String(level ?? '').padEnd(5)} ${String(event ?? '')} ${extra}`.slice(0, 200);
  } catch {
    return l.slice(0, 200);
  }
}
