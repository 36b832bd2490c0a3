// The matrix's real case runner: one lab (master containers, mock Cobbler and
// Nailgun, the deploy image) started once per shard, then each scenario end to end
// on its own node (PXE → provision → verify → first boot → deployment start →
// host-side disk check), and the two-nodes case: two scenarios at once on the same
// L2 segment, each with its own lease.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCtx } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import { createLogger, fileSink } from '../../agent/core/log.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import { ensureBootstrap, ensureDeployImage } from '../../agent/host/artifacts.js';
import { publishImage, type PublishedImage } from '../images.js';
import { orchestratorEnv, startLab, type Lab } from '../lab.js';
import { DEFAULT_PROFILES } from '../mocks/provision-rpc.js';
import type { OrchestratorEnv } from '../orchestrator.js';
import type { NodeReport } from '../report/model.js';
import { NodeRecord } from '../report/record.js';
import { runScenarioOnNode } from '../scenario-run.js';
import { LAB_SCENARIOS, labScenario, type LabScenarioName } from '../scenario.js';
import type { Stages } from '../stages.js';
import { labMac } from '../vm/qemu.js';
import { cacheDir } from '../vm/test-kernel.js';
import { TWO_NODES_CASE, TWO_NODES_SCENARIOS } from './cases.js';
import { nodeIndexFor, type CaseContext, type CaseOutcome, type MatrixCaseRunner } from './run.js';

interface Started {
  lab: Lab;
  env: OrchestratorEnv;
  image: PublishedImage;
}

export function vmCaseRunner(o: { runner?: Runner; log?: (line: string) => void } = {}): MatrixCaseRunner {
  const runner = o.runner ?? new ExecaRunner();
  const log = o.log ?? (() => undefined);
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  let started: Started | undefined;
  let lab: Lab | undefined;

  /** One scenario on node `index`; a failure is the node's (its report keeps the plan, error and console tail). */
  async function node(s: Started, name: LabScenarioName, index: number): Promise<NodeReport> {
    const n = { name: `node-${index}`, hostname: `node-${index}.domain.tld`, macs: [labMac(index)], profile: DEFAULT_PROFILES.bootstrap };
    const record = new NodeRecord(n.name, name, 'image');
    // runScenarioOnNode fills the record as it goes (plan, digests, checks, disks found) and closes it either way.
    await runScenarioOnNode({ lab: s.lab, env: s.env, runner, image: s.image, scenario: labScenario(name), node: n, record }).catch(() => undefined);
    return record.report;
  }

  return {
    mode: 'vm',
    async setup(stages: Stages, signal: AbortSignal): Promise<void> {
      mkdirSync(join(cacheDir(), 'lab'), { recursive: true });
      const ctx = createCtx({ runner, signal, log: createLogger([fileSink(join(cacheDir(), 'lab', 'build.log'))]) });
      const boot = await stages.run('bootstrap ramdisk (build or cache)', 60 * 60_000, () => ensureBootstrap(ctx));
      // The deploy profile: the node must serve the deployment after first boot (mcollective, puppet).
      const built = await stages.run('OS image, deploy profile (build or cache)', 60 * 60_000, () => ensureDeployImage(ctx));
      const image = publishImage(imagesDir, built);
      lab = await stages.run('lab: master containers + mock Cobbler/Nailgun', 15 * 60_000, () =>
        startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir }));
      started = { lab, env: orchestratorEnv(lab, stages, log), image };
    },
    async run(c: CaseContext): Promise<CaseOutcome> {
      const s = started;
      if (!s) throw new ForgeError('LAB_FAILED', `case ${c.id}: the lab is not running`);
      const base = nodeIndexFor(c.position);
      if (c.id !== TWO_NODES_CASE) {
        if (!(LAB_SCENARIOS as readonly string[]).includes(c.id)) throw new ForgeError('USAGE', `unknown matrix case ${c.id}`, { field: 'case' });
        return { nodes: [await node(s, c.id as LabScenarioName, base)] };
      }
      const nodes = await Promise.all(TWO_NODES_SCENARIOS.map((name, k) => node(s, name, base + k)));
      // One dnsmasq for both: each MAC got a lease, and not the same address.
      const byMac = new Map((await s.lab.master.dhcpAcks()).map((a) => [a.mac, a.ip]));
      const macs = TWO_NODES_SCENARIOS.map((_, k) => labMac(base + k));
      const ips = macs.map((m) => byMac.get(m));
      return {
        nodes,
        checks: [{
          name: 'two nodes: a lease each, different addresses',
          ok: ips.every(Boolean) && new Set(ips).size === ips.length,
          detail: macs.map((m, k) => `${m} → ${ips[k] ?? 'no lease'}`).join(', '),
        }],
      };
    },
    async dispose(): Promise<void> {
      try {
        await lab?.dispose();
      } finally {
        rmSync(imagesDir, { recursive: true, force: true });
      }
    },
  };
}
