// Astute's role: provisions nodes through mock Cobbler and mock Nailgun. The
// phases are separate so the lab can put faults between them:
//   bootToBootstrap  register (netboot on) + sync, power on, wait for discovery
//   runProvision     upload provision.json, run `provision`, follow its log
//   verifyOnNode     `provision verify` on the node
//   rebootToDisk     netboot off + sync, reboot, wait for the first-boot call-back
// Each stage has its own timeout and is timed. A failed provision is reported to
// Nailgun as an error and leaves netboot enabled, as Astute does, so the node
// stays in (or returns to) the bootstrap.
import type { TaskResult } from '../agent/bootstrap/protocol.js';
import { z } from 'zod';
import { ForgeError } from '../agent/core/errors.js';
import { parseJsonAs } from '../agent/core/parse-json.js';
import type { CobblerClient } from './mocks/cobbler.js';
import type { MockNode, StartedNailgun } from './mocks/nailgun.js';
import type { Stages } from './stages.js';
import { describeRefusal, secureBootRefusal } from './vm/boot-refusal.js';
import { pollUntil } from './vm/wait.js';

export interface NodeTimeouts {
  register: number;
  discovery: number;
  upload: number;
  provision: number;
  verify: number;
  firstBoot: number;
  /** Classic method: from the installer's PXE boot to its nopxe call (debian-installer's whole run). */
  install: number;
}

export const DEFAULT_TIMEOUTS: NodeTimeouts = {
  register: 30_000,
  discovery: 6 * 60_000,
  upload: 60_000,
  provision: 20 * 60_000,
  verify: 5 * 60_000,
  firstBoot: 10 * 60_000,
  install: 90 * 60_000,
};

export interface OrchestratedNode {
  name: string;
  hostname: string;
  macs: string[];
  profile: string;
  /** Fuel's role for the deployment that follows provisioning (default compute). */
  role?: string;
}

export interface OrchestratorEnv {
  nailgun: StartedNailgun;
  cobbler: CobblerClient;
  stages: Stages;
  log: (line: string) => void;
  timeouts?: Partial<NodeTimeouts>;
  /**
   * A node's serial console tail (default a few KiB; `Infinity` for all of it), quoted when it
   * never calls back (what did it boot into?) and read for a Secure Boot refusal meanwhile.
   */
  serialTail?: (name: string, chars?: number) => string;
  /** Shows a node's raw agent log lines (default: `log` of their summary); a live console reads their progress. */
  agentLine?: (node: string, line: string) => void;
}

export interface ProvisionAttempt {
  result: TaskResult;
  /** The agent's JSON report (stdout), when it printed one. */
  report: ProvisionReportView | undefined;
}

/** The parts of the agent's run report the lab reads (the rest is kept, unread). */
const provisionReportView = z.looseObject({
  ok: z.boolean(),
  stoppedAt: z.string().exactOptional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).exactOptional(),
  images: z
    .array(z.looseObject({ uri: z.string(), device: z.string(), bytes: z.number(), md5: z.string().exactOptional(), sha256: z.string().exactOptional(), verified: z.boolean(), resumes: z.number(), restarts: z.number() }))
    .exactOptional(),
  steps: z.array(z.looseObject({ step: z.string(), outcome: z.string(), durationMs: z.number() })).exactOptional(),
});
export type ProvisionReportView = z.output<typeof provisionReportView>;

/** One JSON log line of the agent: its event and fields. */
const logLine = z.looseObject({ level: z.unknown(), event: z.unknown() });
const progressLine = z.looseObject({ event: z.string().optional(), percent: z.number().optional() });

/** Best effort: a line that is not what we look for is "nothing", never an error. */
function maybe<S extends z.ZodType>(schema: S, text: string): z.output<S> | undefined {
  try {
    return parseJsonAs(schema, text);
  } catch {
    return undefined;
  }
}

export const PROVISION_JSON = '/tmp/provision.json';

export const timeoutsOf = (env: OrchestratorEnv): NodeTimeouts => ({ ...DEFAULT_TIMEOUTS, ...env.timeouts });

export async function runTask(env: OrchestratorEnv, mac: string, argv: string[], timeoutMs: number, onLine?: (l: string) => void): Promise<TaskResult> {
  const t = env.nailgun.enqueue(mac, { kind: 'run', argv, timeoutMs });
  return env.nailgun.awaitResult(t.task.id, timeoutMs + 30_000, onLine);
}

export async function uploadFile(env: OrchestratorEnv, mac: string, path: string, content: string | Uint8Array): Promise<void> {
  const t = env.nailgun.enqueue(mac, { kind: 'upload', path, contentBase64: Buffer.from(content).toString('base64') });
  const r = await env.nailgun.awaitResult(t.task.id, timeoutsOf(env).upload);
  if (r.exitCode !== 0) throw new ForgeError('LAB_FAILED', `upload of ${path} to ${mac} failed: ${r.stderrTail}`);
}

export function parseReport(stdout: string): ProvisionReportView | undefined {
  const text = stdout.trim();
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  return maybe(provisionReportView, text.slice(start));
}

/**
 * A node update as Astute sends it to Nailgun (PUT /api/nodes/:id: status, progress,
 * error). Nailgun may be restarting (nginx answers 502, or nothing listens): the
 * update is retried with backoff for up to `retryMs`, so a status is not lost to a
 * master restart; a 4xx is our mistake and throws at once.
 */
export async function putNode(nailgun: StartedNailgun, id: number, body: Record<string, unknown>, retryMs = 120_000): Promise<void> {
  const until = Date.now() + retryMs;
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    let why: string;
    try {
      const r = await fetch(`${nailgun.url}/api/nodes/${id}`, { method: 'PUT', body: JSON.stringify(body) });
      const text = await r.text();
      if (r.ok) return;
      if (r.status < 500) throw new ForgeError('LAB_FAILED', `PUT /api/nodes/${id}: HTTP ${r.status}: ${text.slice(0, 200)}`);
      why = `HTTP ${r.status}`;
    } catch (e) {
      if (e instanceof ForgeError) throw e;
      why = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() + delay > until) throw new ForgeError('LAB_TIMEOUT', `PUT /api/nodes/${id}: Nailgun did not take the update within ${retryMs} ms (${why})`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Registers the node with netboot on, powers it on and waits for a new discovery report. */
export async function bootToBootstrap(env: OrchestratorEnv, n: OrchestratedNode): Promise<MockNode> {
  const to = timeoutsOf(env);
  const mac = n.macs[0] as string;
  await env.stages.run(`${n.name}: cobbler register+sync`, to.register, async () => {
    await env.cobbler.login();
    await env.cobbler.upsertSystem({ name: n.name, hostname: n.hostname, profile: n.profile, netbootEnabled: true, macs: Object.fromEntries(n.macs.map((m, i) => [`eth${i}`, m])) });
    await env.cobbler.sync();
  });
  const before = env.nailgun.nodeByMac(mac)?.discoveries ?? 0;
  await env.stages.run(`${n.name}: power on`, to.register, () => env.cobbler.power(n.name, 'on'));
  return waitForDiscovery(env, n, before, 'PXE boot + discovery');
}

/** Waits until the node reports discovery more often than `before` (it booted the bootstrap again). */
export function waitForDiscovery(env: OrchestratorEnv, n: OrchestratedNode, before: number, stage: string): Promise<MockNode> {
  const to = timeoutsOf(env);
  const mac = n.macs[0] as string;
  return env.stages.run(`${n.name}: ${stage}`, to.discovery, (signal) =>
    pollUntil(`discovery of ${mac}`, async () => {
      const x = env.nailgun.nodeByMac(mac);
      return x && x.discoveries > before ? x : undefined;
    }, { timeoutMs: to.discovery, signal, pollMs: 500 }));
}

export interface RunProvisionOptions {
  /** Extra argv after `provision run` (e.g. --stall-timeout 15). */
  runArgs?: string[];
  /** Files uploaded before provision.json (absolute node path → content). */
  extraUploads?: Record<string, string | Uint8Array>;
  /** Every log line the agent ships while it runs. */
  onLine?: (line: string) => void;
  stage?: string;
}

/**
 * Uploads the data and runs `provision`. A failure is reported to Nailgun
 * (status error, last stderr lines) and returned, not thrown: the caller decides
 * whether it was expected.
 */
export async function runProvision(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode, data: unknown, o: RunProvisionOptions = {}): Promise<ProvisionAttempt> {
  const to = timeoutsOf(env);
  const mac = n.macs[0] as string;
  env.nailgun.setProvisionData(node.id, data);
  await env.stages.run(`${n.name}: upload provision.json`, to.upload, async () => {
    for (const [path, content] of Object.entries(o.extraUploads ?? {})) await uploadFile(env, mac, path, content);
    await uploadFile(env, mac, PROVISION_JSON, JSON.stringify(data, null, 2));
  });
  await putNode(env.nailgun, node.id, { status: 'provisioning', progress: 0 });
  // Progress is lossy, as Astute's is: one lost to a master restart is superseded by the next.
  const progress = astuteProgress((p) => void putNode(env.nailgun, node.id, { progress: p }, 10_000).catch(() => undefined));
  const result = await env.stages.run(`${n.name}: ${o.stage ?? 'provision'}`, to.provision, () =>
    runTask(env, mac, ['provision', 'run', '--input', PROVISION_JSON, ...(o.runArgs ?? [])], to.provision, (l) => {
      if (env.agentLine) env.agentLine(n.name, l);
      else env.log(`  [${n.name}] ${summarizeLogLine(l)}`);
      o.onLine?.(l);
      progress(l);
    }));
  const report = parseReport(result.stdout);
  if (result.exitCode !== 0) {
    const why = report?.error ? `${report.error.code}: ${report.error.message}` : result.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ');
    await putNode(env.nailgun, node.id, { status: 'error', error_type: 'provision', error_msg: why.slice(0, 500) });
  }
  return { result, report };
}

/** runProvision that must succeed: a failure throws with the agent's error and stderr tail. */
export async function provisionOrThrow(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode, data: unknown, o: RunProvisionOptions = {}): Promise<ProvisionAttempt> {
  const a = await runProvision(env, n, node, data, o);
  if (a.result.exitCode !== 0) {
    throw new ForgeError('LAB_FAILED', `provision failed on ${n.name} (exit ${a.result.exitCode}): ${a.report?.error ? `${a.report.error.code}: ${a.report.error.message}` : 'no report'}`, {
      details: { stoppedAt: a.report?.stoppedAt, stderrTail: a.result.stderrTail.slice(-2000), nodeId: node.id },
    });
  }
  return a;
}

export async function verifyOnNode(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode): Promise<TaskResult> {
  const to = timeoutsOf(env);
  const r = await env.stages.run(`${n.name}: provision verify (node)`, to.verify, () =>
    runTask(env, n.macs[0] as string, ['provision', 'verify', '--input', PROVISION_JSON], to.verify));
  if (r.exitCode !== 0) {
    await putNode(env.nailgun, node.id, { status: 'error', error_type: 'provision', error_msg: 'verify failed' });
    throw new ForgeError('VERIFY_MISMATCH', `provision verify failed on ${n.name}:\n${r.stdout.slice(-2000)}`, { details: { stderrTail: r.stderrTail } });
  }
  return r;
}

/** Disables netboot, reboots the node and waits for its first-boot call-back. */
export async function rebootToDisk(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode): Promise<unknown> {
  const to = timeoutsOf(env);
  await env.stages.run(`${n.name}: disable netboot + sync`, to.register, async () => {
    await env.cobbler.setNetboot(n.name, false);
    await env.cobbler.sync();
  });
  const before = node.provisioned.length;
  await env.stages.run(`${n.name}: reboot`, to.register, () => env.cobbler.power(n.name, 'reboot'));
  return waitForFirstBoot(env, n, node, before);
}

/** Enables netboot, reboots the node and waits until it has discovered itself from the bootstrap again. */
export async function rebootToBootstrap(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode): Promise<MockNode> {
  const to = timeoutsOf(env);
  await env.stages.run(`${n.name}: enable netboot + sync`, to.register, async () => {
    await env.cobbler.setNetboot(n.name, true);
    await env.cobbler.sync();
  });
  const before = node.discoveries;
  await env.stages.run(`${n.name}: reboot`, to.register, () => env.cobbler.power(n.name, 'reboot'));
  return waitForDiscovery(env, n, before, 'PXE boot (back to the bootstrap)');
}

/** Waits for the node's first-boot call-back number `before + 1` (cloud-init's last step on the installed system). */
export async function waitForFirstBoot(env: OrchestratorEnv, n: OrchestratedNode, node: MockNode, before: number): Promise<unknown> {
  const to = timeoutsOf(env);
  // Only this boot's console counts: an earlier boot may have been refused on purpose.
  const consoleFrom = env.serialTail?.(n.name, Infinity).length ?? 0;
  let polls = 0;
  // A refused loader never calls back: say who refused it instead of waiting out the timeout.
  const refused = (): string | undefined => {
    if (!env.serialTail || polls++ % 5) return undefined;
    const r = secureBootRefusal(env.serialTail(n.name, Infinity).slice(consoleFrom));
    return r && `${n.name} did not boot its disk: ${describeRefusal(r)}`;
  };
  try {
    const body = await env.stages.run(`${n.name}: first boot (cloud-init)`, to.firstBoot, (signal) =>
      pollUntil(`first-boot call-back from ${n.name}`, async () => node.provisioned[before], { timeoutMs: to.firstBoot, signal, pollMs: 1000, failWhen: refused }));
    // cloud-init's own per-stage seconds: where the first boot went (a wait on an unreachable service shows here).
    const b = body as { cloud_init_stages?: Record<string, number>; uptime?: string; boot_analysis?: { time?: string; blame?: string[]; cloud_init_blame?: string[] } };
    env.log(`${n.name}: first boot: uptime ${b.uptime ?? '?'} s at call-back; cloud-init stages ${JSON.stringify(b.cloud_init_stages ?? {})}`);
    // systemd's and cloud-init's own accounts of the boot (the node's call-back carries them).
    const a = b.boot_analysis;
    if (a?.time) env.log(`${n.name}: first boot: ${a.time.split('\n')[0]}`);
    if (a?.blame?.length) env.log(`${n.name}: first boot: slowest units: ${a.blame.slice(0, 6).join('; ')}`);
    if (a?.cloud_init_blame?.length) env.log(`${n.name}: first boot: slowest cloud-init modules: ${a.cloud_init_blame.slice(0, 5).join('; ')}`);
    return body;
  } catch (e) {
    const tail = env.serialTail?.(n.name);
    if (e instanceof Error && tail) e.message += `\n--- ${n.name} serial console (tail) ---\n${tail}`;
    throw e;
  }
}

export interface NodeOutcome {
  node: MockNode;
  provision: ProvisionAttempt;
  verify: TaskResult;
  firstBoot: unknown;
}

/** The agent logs JSON lines; show event + a few fields, not the whole object. */
export function summarizeLogLine(l: string): string {
  const e = maybe(logLine, l);
  if (!e) return l.slice(0, 200);
  const { ts: _ts, level, event, ...rest } = e;
  const extra = Object.entries(rest).slice(0, 4).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v).slice(0, 60) : String(v)}`).join(' ');
  return `${String(level ?? '').padEnd(5)} ${String(event ?? '')} ${extra}`.slice(0, 200);
}

/**
 * Astute's rule for a node's progress in Nailgun: the image write is 10–90 % of its
 * provisioning (partitioning before it, configdrive and GRUB after), reported in
 * steps of at least 5 so a fleet's updates stay bounded per node.
 */
export function astuteProgress(put: (progress: number) => void): (agentLine: string) => void {
  let reported = 0;
  return (l) => {
    const pct = imageProgress(l);
    if (pct === undefined) return;
    const progress = Math.round(10 + pct * 0.8);
    if (progress < reported + 5) return;
    reported = progress;
    put(progress);
  };
}

/** Percent of the image written, from an `image.progress` log line; undefined for other lines. */
export function imageProgress(line: string): number | undefined {
  const e = maybe(progressLine, line);
  return e?.event === 'image.progress' && e.percent !== undefined ? e.percent : undefined;
}
