// One scenario on one lab node, the happy path Astute drives: PXE → discovery →
// Nailgun's provisioning message → the method's branch → first boot → the
// deployment's start (ssh, mcollective, puppet; node `ready`), then the
// host-side check of every disk after power-off. Image method: provision →
// verify on the node → netboot off → reboot; keep_data scenarios provision
// twice and prove the kept filesystem's files survived the second run. Classic
// method: Cobbler's installer profile, debian-installer with the rendered
// preseed, nopxe, the installer's own reboot. The checks after first boot are
// the same for both.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../agent/core/runner.js';
import { ForgeError } from '../agent/core/errors.js';
import type { Inventory } from '../agent/inventory/types.js';
import { buildPlan } from '../agent/plan/build.js';
import type { Plan } from '../agent/plan/types.js';
import { parseProvisionData } from '../agent/schema/load.js';
import type { PublishedImage } from './images.js';
import type { Lab } from './lab.js';
import {
  bootToBootstrap, provisionOrThrow, rebootToDisk, verifyOnNode, type OrchestratedNode, type OrchestratorEnv,
  type ProvisionReportView,
} from './orchestrator.js';
import { deployNode, grubPcOnNode } from './deploy/deploy.js';
import type { MockNode } from './mocks/nailgun.js';
import { nativeProvision } from './native-provision.js';
import { dispatchProvision, requestProvision } from './provision-dispatch.js';
import { imageDataFor, nodeData, type LabScenario } from './scenario.js';
import { expectFirstBoot, firstBootChecks, type Check } from './verify/first-boot.js';
import { keepDataProbe, keptFs } from './verify/keep-data.js';
import { hostDiskChecks } from './verify/host-disk.js';
import type { NodeRecord } from './report/record.js';

export type LabMethod = 'image' | 'classic';
export const LAB_METHODS: readonly LabMethod[] = ['image', 'classic'];

export interface ScenarioRun {
  checks: Check[];
  report: ProvisionReportView | undefined;
}

/** What either branch hands to the common checks. */
interface BranchOutcome {
  firstBoot: unknown;
  plan: Plan | undefined;
  report: ProvisionReportView | undefined;
  checks: Check[];
}

/** The same data with every keep_data flag removed (a first deployment). */
export function withoutKeepData<T>(data: T): T {
  const copy = structuredClone(data) as { ks_meta?: { pm_data?: { ks_spaces?: { volumes?: Record<string, unknown>[] }[] } } };
  for (const s of copy.ks_meta?.pm_data?.ks_spaces ?? []) for (const v of s.volumes ?? []) delete v['keep_data'];
  return copy as T;
}

/** The plan the node will make, from the inventory it reported at discovery. */
export function planOf(data: unknown, inventory: unknown): Plan {
  return buildPlan(parseProvisionData(data), inventory as Inventory);
}

export async function runScenarioOnNode(
  o: {
    lab: Lab; env: OrchestratorEnv; runner: Runner; scenario: LabScenario; node: OrchestratedNode; image: PublishedImage; runArgs?: string[];
    /** Changes the node's data after the lab filled it in (e.g. a key or mco password the master does not have). */
    alterData?: (data: Record<string, any>) => void;
    /** The cluster's provisioning method (default image). */
    method?: LabMethod;
    /** Filled as the run goes, for the run's report (also when it fails half-way). */
    record?: NodeRecord;
    /** Every agent log line of the image runs (a test puts faults at points of the run). */
    onProvisionLine?: (line: string) => void;
    /** Runs alongside the reboot into the installed system until its call-back (a master fault during first boot). */
    duringFirstBoot?: () => Promise<void>;
  },
): Promise<ScenarioRun> {
  try {
    const r = await scenarioOnNode(o);
    o.record?.finish(o.env.serialTail?.(o.node.name));
    return r;
  } catch (e) {
    o.record?.fail(e, o.env.serialTail?.(o.node.name));
    throw e;
  }
}

async function scenarioOnNode(o: Parameters<typeof runScenarioOnNode>[0]): Promise<ScenarioRun> {
  const { lab, env, scenario: s, node: n, record } = o;
  const checks: Check[] = [];
  // Everything pushed onto checks is in the report too.
  const push = (...cs: Check[]): void => {
    checks.push(...cs);
    record?.addChecks(cs);
  };
  lab.addNode({ name: n.name, macs: n.macs, disks: s.disks, ...(s.firmware ? { firmware: s.firmware } : {}), ...(s.secureBoot ? { secureBoot: true } : {}) });
  const node = await bootToBootstrap(env, n);
  const data = nodeData(s, lab.nodeFor(String(node.id), n.hostname, n.macs), imageDataFor(o.image.meta, o.image.file, lab.imagesUrl));
  o.alterData?.(data);
  if (record) {
    // Known before anything runs, so a node that fails half-way still has its layout and digests drawn.
    try {
      record.report.plan = planOf(data, node.inventory);
    } catch {
      // A plan the lab cannot make is the agent's error to report, not the recorder's.
    }
    record.expectImage(o.image.meta);
  }
  // Nailgun's side: the node's data, the cluster's method, the provisioning request → one message for Astute.
  lab.nailgun.setProvisionData(node.id, data);
  lab.nailgun.cluster.method = o.method === 'classic' ? 'cobbler' : 'image';
  await requestProvision(lab.nailgun, [node.id]);
  const msg = await lab.nailgun.takeRpc(10_000);
  const [out] = await dispatchProvision<BranchOutcome>(msg, {
    image: () => imageBranch(o, node, data),
    native: async (entry) => {
      await env.stages.run(`${n.name}: pre_provision (installer files, archive check)`, 30 * 60_000, () => lab.prepareClassic());
      const r = await nativeProvision(env, n, node, entry);
      return { firstBoot: r.firstBoot, plan: planOf(data, node.inventory), report: undefined, checks: [] };
    },
  });
  if (!out) throw new ForgeError('LAB_FAILED', `no outcome for ${n.name}`);
  push(...out.checks);
  const { plan, report } = out;
  if (record) {
    if (plan) record.report.plan = plan;
    record.imageWritten(report);
  }
  const firmware = { efi: s.firmware === 'uefi', secureBoot: s.secureBoot ?? false };
  push(...firstBootChecks(out.firstBoot, expectFirstBoot(data, { plan, firmware })));
  push({ name: 'Nailgun status provisioned', ok: lab.nailgun.node(node.id)?.status === 'provisioned', detail: String(lab.nailgun.node(node.id)?.status) });
  // What the master did next in Fuel: reach the node and start the deployment.
  const ran = o.runner.history.length;
  const deploy = await deployNode({ nailgun: lab.nailgun, stages: env.stages, deploy: lab.deploy }, { name: n.name, macs: n.macs, role: n.role ?? 'compute' }, node);
  push(...deploy.checks);
  // Where a grub-pc upgrade would put GRUB: asked of the node (image-based BIOS nodes; the installer answers it itself).
  if (o.method !== 'classic' && deploy.checks[0]?.ok) {
    const { check } = await grubPcOnNode(lab.deploy, n.macs[0] as string, plan?.bootloader.disks ?? [], node.inventory as Inventory | undefined);
    if (check) push(check);
  }
  // Every ssh and mco call of the deployment, with its output: kept with the lab directory (--keep).
  writeFileSync(join(lab.dir, `deploy-${n.name}.log`), o.runner.history.slice(ran)
    .filter((r) => r.argv[0] === 'ssh' || (r.argv[0] === 'docker' && r.argv[1] === 'exec'))
    .map((r) => `$ ${r.argv.join(' ')}\nexit ${r.exitCode} after ${r.durationMs} ms\n--- stdout (tail)\n${r.stdoutTail}\n--- stderr (tail)\n${r.stderrTail}\n`).join('\n'));
  const status = lab.nailgun.node(node.id);
  push({ name: 'Nailgun status ready', ok: status?.status === 'ready', detail: `${String(status?.status)}${status?.errorMessage ? `: ${status.errorMessage}` : ''}` });
  // The lab's guard saw the whole life of the node so far: nothing may have tried to leave.
  const c = await lab.master.containment();
  push({
    name: 'stayed inside the lab',
    ok: c.attempts === 0 && c.leaked === 0,
    detail: `addressed outside ${c.attempts}, dropped ${c.dropped}, left ${c.leaked} packets`,
  });

  const vm = lab.vms.get(n.name);
  if (vm) {
    await env.stages.run(`${n.name}: power off`, 180_000, async () => {
      await vm.powerdown();
      await vm.waitForPowerOff(170_000);
      await vm.stop();
    });
    for (const [i, disk] of vm.files.disks.entries()) {
      const host = await env.stages.run(`${n.name}: host check disk ${i}`, 300_000, () => hostDiskChecks(o.runner, disk, lab.dir, plan, i));
      push(...host.checks.map((c) => ({ ...c, name: `disk ${i}: ${c.name}` })));
      record?.diskFound(i, host.view);
    }
  }
  return { checks, report };
}

/** Astute's image_provision for one node: the agent from the bootstrap, verify, netboot off, reboot. */
async function imageBranch(
  o: {
    env: OrchestratorEnv; node: OrchestratedNode; image: PublishedImage; runArgs?: string[]; record?: NodeRecord;
    onProvisionLine?: (line: string) => void; duringFirstBoot?: () => Promise<void>;
  },
  node: MockNode, data: Record<string, any>,
): Promise<BranchOutcome> {
  const { env, node: n, record } = o;
  const mac = n.macs[0] as string;
  const checks: Check[] = [];
  const onLine = (l: string): void => {
    record?.agentLine(l);
    o.onProvisionLine?.(l);
  };
  const run = { ...(o.runArgs ? { runArgs: o.runArgs } : {}), onLine };
  // keep_data marks data of an earlier deployment: the first one is made without it,
  // as Fuel does, and the agent refuses a kept partition that is not on the disk.
  const firstData = withoutKeepData(data);
  let attempt = await provisionOrThrow(env, n, node, firstData, run);
  const kept = keptFs(planOf(data, node.inventory));
  if (kept) {
    // keep_data: data written after the first deployment must survive the second one.
    const before = await env.stages.run(`${n.name}: write into ${kept.mount}`, 120_000, () => keepDataProbe(env, mac, kept.device, true));
    attempt = await provisionOrThrow(env, n, node, data, { ...run, stage: 'provision (again, keep_data)' });
    const after = await env.stages.run(`${n.name}: read kept ${kept.mount}`, 120_000, () => keepDataProbe(env, mac, kept.device, false));
    checks.push({ name: `keep_data ${kept.mount} survived re-provisioning`, ok: before.length === 64 && before === after, detail: `sha256 before ${before.slice(0, 12)}…, after ${after.slice(0, 12)}…` });
  }
  const img = attempt.report?.images?.[0];
  checks.push({
    name: 'image checksum = published',
    // The metadata gives md5 and sha256: the agent verified (and reports) the stronger one.
    ok: img?.verified === true && img.sha256 === o.image.meta.raw_sha256 && (img.md5 === undefined || img.md5 === o.image.meta.raw_md5),
    detail: `raw sha256 ${img?.sha256 ?? '-'}, published ${o.image.meta.raw_sha256}`,
  });
  const verify = await verifyOnNode(env, n, node);
  checks.push({ name: 'provision verify on node', ok: verify.exitCode === 0, detail: `exit ${verify.exitCode}` });
  const [firstBoot] = await Promise.all([rebootToDisk(env, n, node), o.duringFirstBoot?.()]);
  const plan = (attempt.report as { plan?: Plan } | undefined)?.plan;
  return { firstBoot, plan, report: attempt.report, checks };
}
