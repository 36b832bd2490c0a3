// The matrix's dry run (`lab matrix --dry-run`): each case's nodes get the data the
// lab would give them and the plan the agent would make from the inventory their
// VMs would present, and the plan is checked: it builds, it is sound and follows
// fuel-agent's layout, the image fits its target, every disk is matched by its
// by-id link (the lab's NVMe names are not stable) and a configdrive is planned.
// No VM, no root: seconds for the whole matrix, and the same cases, shards and
// outputs as the real run.
import { createHash } from 'node:crypto';
import { ForgeError, isForgeError } from '../../agent/core/errors.js';
import type { ImageMeta } from '../../agent/host/image/meta.js';
import { buildPlan } from '../../agent/plan/build.js';
import { planViolations } from '../../agent/plan/invariants.js';
import type { Plan } from '../../agent/plan/types.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { addressingFor, DEFAULT_PREFIX, LAB_DOMAIN } from '../master/addressing.js';
import { NodeRecord } from '../report/record.js';
import type { NodeReport } from '../report/model.js';
import { imageDataFor, LAB_SCENARIOS, labScenario, nodeData, vmInventory, type LabScenario, type LabScenarioName } from '../scenario.js';
import type { Check } from '../verify/first-boot.js';
import { labMac } from '../vm/qemu.js';
import { TWO_NODES_CASE, TWO_NODES_SCENARIOS } from './cases.js';
import { nodeIndexFor, type CaseContext, type CaseOutcome, type MatrixCaseRunner } from './run.js';

const digest = (algo: string, text: string): string => createHash(algo).update(text).digest('hex');

/**
 * The image a dry run plans for: nothing is built, so its size is the deploy
 * image's as measured (1.38 GiB raw, README) rounded up; digests are placeholders.
 */
export const DRY_RUN_IMAGE: ImageMeta = {
  uri: 'dry-run.img.gz', format: 'ext4', container: 'gzip', size: 300 * 2 ** 20, raw_size: 1536 * 2 ** 20,
  md5: digest('md5', 'dry-run'), sha256: digest('sha256', 'dry-run'), raw_md5: digest('md5', 'dry-run raw'), raw_sha256: digest('sha256', 'dry-run raw'),
};

/** The first lab network's addresses: where a dry run's nodes are pointed. */
const NET = addressingFor(`${DEFAULT_PREFIX}.1.0/24`);

/** The checks of one plan (what the lab relies on before it boots a VM). */
export function planChecks(plan: Plan, image: ImageMeta): Check[] {
  const problems = planViolations(plan);
  const target = plan.images[0]?.targetDevice;
  const targetMiB = plan.lvs.find((l) => l.device === target)?.size
    ?? plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === target)?.size;
  const byName = plan.parteds.filter((d) => d.matchedBy !== 'extra').map((d) => `${d.device} (${d.matchedBy})`);
  return [
    { name: 'plan: sound, fuel-agent layout', ok: problems.length === 0, detail: problems.length ? problems.slice(0, 5).join('; ') : `${plan.parteds.length} disks` },
    {
      name: 'plan: image fits /',
      ok: targetMiB !== undefined && targetMiB * 2 ** 20 >= image.raw_size,
      detail: `${target ?? 'no image target'}: ${targetMiB ?? '-'} MiB for ${Math.ceil(image.raw_size / 2 ** 20)} MiB raw`,
    },
    { name: 'plan: disks matched by by-id link', ok: byName.length === 0, detail: byName.length ? `not by link: ${byName.join(', ')}` : 'all' },
    { name: 'plan: configdrive planned', ok: plan.configdrive !== undefined, detail: plan.configdrive?.device ?? 'none' },
  ];
}

interface PlannedNode {
  report: NodeReport;
  macs: string[];
  hostname: string;
}

/** One node of a case: its data, its plan, the plan's checks (a stage of the node's on the timeline). */
function planNode(c: CaseContext, s: LabScenario, index: number, image: ImageMeta): Promise<PlannedNode> {
  const name = `node-${index}`;
  return c.stages.run(`${name}: plan ${s.name}`, 60_000, async () => planNodeNow(name, s, index, image));
}

function planNodeNow(name: string, s: LabScenario, index: number, image: ImageMeta): PlannedNode {
  const hostname = `${name}.${LAB_DOMAIN}`;
  const macs = [labMac(index)];
  const rec = new NodeRecord(name, s.name, 'image');
  rec.report.images.push({ target: '/', expected: { md5: image.raw_md5, sha256: image.raw_sha256 } });
  try {
    const data = nodeData(s, { uid: String(index), hostname, macs, masterUrl: `http://${NET.gatewayIp}:8000`, nameServer: NET.dnsmasqIp },
      imageDataFor(image, image.uri, `http://${NET.imagesIp}/targetimages`));
    let plan: Plan;
    try {
      plan = buildPlan(parseProvisionData(data), vmInventory(s.disks));
    } catch (e) {
      // A plan the agent refuses is a verdict on the scenario, not a broken run.
      if (!isForgeError(e)) throw e;
      rec.addChecks([{ name: 'plan: builds', ok: false, detail: `${e.code}: ${e.message}` }]);
      return { report: rec.finish(), macs, hostname };
    }
    rec.report.plan = plan;
    rec.addChecks([{ name: 'plan: builds', ok: true, detail: `${plan.parteds.length} disks, ${plan.fss.length} filesystems` }, ...planChecks(plan, image)]);
    return { report: rec.finish(), macs, hostname };
  } catch (e) {
    rec.fail(e);
    return { report: rec.report, macs, hostname };
  }
}

export interface PlanRunnerOptions {
  image?: ImageMeta;
  /** Cases beyond the lab's scenarios (a test's variant), by id. */
  extra?: Record<string, LabScenario>;
}

export function planCaseRunner(o: PlanRunnerOptions = {}): MatrixCaseRunner {
  const image = o.image ?? DRY_RUN_IMAGE;
  const scenario = (id: string): LabScenario => {
    const extra = o.extra?.[id];
    if (extra) return extra;
    if ((LAB_SCENARIOS as readonly string[]).includes(id)) return labScenario(id as LabScenarioName);
    throw new ForgeError('USAGE', `unknown matrix case ${id}`, { field: 'case' });
  };
  return {
    mode: 'plan',
    async run(c: CaseContext): Promise<CaseOutcome> {
      const base = nodeIndexFor(c.position);
      if (c.id !== TWO_NODES_CASE) return { nodes: [(await planNode(c, scenario(c.id), base, image)).report] };
      // Two nodes on one segment: both plan, and nothing the lab's DHCP and DNS key on is shared.
      const both: PlannedNode[] = [];
      for (const [k, name] of TWO_NODES_SCENARIOS.entries()) both.push(await planNode(c, labScenario(name), base + k, image));
      const macs = both.flatMap((n) => n.macs);
      const hosts = both.map((n) => n.hostname);
      return {
        nodes: both.map((n) => n.report),
        checks: [{ name: 'two nodes: distinct MACs and hostnames', ok: new Set(macs).size === macs.length && new Set(hosts).size === hosts.length, detail: `${macs.join(' ')}; ${hosts.join(' ')}` }],
      };
    },
  };
}
