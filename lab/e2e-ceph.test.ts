// The lab end to end on a Ceph OSD node (scenario ceph-osd), with the master's
// faults of issue 16 on its way: its OSD and journal partitions must carry the
// data's type GUIDs on the booted node. Its data carries a key the master does not
// hold and a wrong mco_password (one node for both failure paths: a whole
// provisioning costs minutes under TCG): the deployment must fail naming
// authorized_keys and mco_password. Nailgun restarts (state from its file, 20 s of
// 502s) while the agent writes the image, and is down again from the reboot until
// the node's first-boot call-back has been refused at least once.
// Its own lab, so it runs beside lab/e2e.test.ts (the vm tier runs two files at once).
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../agent/core/runner.js';
import type { PublishedImage } from './images.js';
import type { Lab } from './lab.js';
import { imageProgress, type OrchestratedNode, type OrchestratorEnv } from './orchestrator.js';
import { runScenarioOnNode } from './scenario-run.js';
import { labPublicKey, labScenario } from './scenario.js';
import { DEFAULT_PROFILES } from './mocks/provision-rpc.js';
import { Stages } from './stages.js';
import { labMac } from './vm/qemu.js';
import { pollUntil } from './vm/wait.js';
import { NodeRecord, runReportOf } from './report/record.js';
import { writeRunReport } from './report/render.js';
import { inspectReport } from './report/browser.js';
import { expectDrawnAsRecorded } from './testing/report-drawn.js';
import { closeE2eLab, openE2eLab } from './testing/e2e-lab.js';

const runner = new ExecaRunner();
const ceph: OrchestratedNode = { name: 'node-12', hostname: 'node-12.domain.tld', macs: [labMac(12)], profile: DEFAULT_PROFILES.bootstrap, role: 'ceph-osd' };
const stages = new Stages((l) => process.stdout.write(l + '\n'));
const startedAt = new Date();
const record = new NodeRecord(ceph.name, 'ceph-osd', 'image');
const report = () => runReportOf({
  kind: 'e2e', title: 'lab end to end (Ceph OSD node, master faults)', startedAt, stages: stages.records,
  rerun: 'npx vitest run --project vm lab/e2e-ceph.test.ts', nodes: [record],
});
const TEST_TIMEOUT = 25 * 60_000;
const isCallback = (q: { method: string; path: string }): boolean => q.method === 'POST' && /\/provisioned\/?$/.test(q.path);

let lab: Lab;
let env: OrchestratorEnv;
let good: PublishedImage;
let imagesDir = '';

beforeAll(async () => {
  ({ lab, env, good, imagesDir } = await openE2eLab(runner, stages));
}, 30 * 60_000);

afterAll(async () => {
  process.stdout.write(`\n== lab stage timings (Ceph node) ==\n${stages.table()}\n`);
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/lab-stages-ceph.json', JSON.stringify(stages.records, null, 2) + '\n');
  record.finish(lab?.serialTail(ceph.name, 16_000));
  process.stdout.write(`report: ${writeRunReport(report(), 'reports', 'lab-e2e-ceph').html}\n`);
  await closeE2eLab(lab, imagesDir);
}, 120_000);

describe('lab end to end (a ceph-osd node; master restarts mid-image and is down at first boot; container master, TCG)', () => {
  it('Ceph OSD node with a key the master lacks and a wrong mco_password, Nailgun restarted mid-image and down at first boot: provisioned and typed as the data says; deployment refused naming both', async () => {
    let restart: Promise<void> | undefined;
    let refusedAtRestart = 0;
    const nodesBefore = lab.nailgun.nodes().length;
    const r = await runScenarioOnNode({
      lab, env, runner, image: good, scenario: labScenario('ceph-osd'), node: ceph, record,
      alterData: (d) => {
        d.ks_meta.authorized_keys = [labPublicKey('not-the-master')];
        d.ks_meta.mco_password = 'not-the-broker-password';
      },
      onProvisionLine: (l) => {
        if (!restart && (imageProgress(l) ?? 0) >= 40) {
          refusedAtRestart = lab.nailgun.refused.length;
          restart = stages.run('nailgun: restart (20 s down)', 120_000, () => lab.nailgun.restart({ downMs: 20_000 }));
        }
      },
      duringFirstBoot: async () => {
        lab.nailgun.down();
        try {
          await stages.run('nailgun: down until the call-back is refused', 10 * 60_000, (signal) =>
            pollUntil('first-boot call-back refused', async () => (lab.nailgun.refused.some(isCallback) ? true : undefined), { timeoutMs: 10 * 60_000, signal, pollMs: 500 }));
        } finally {
          lab.nailgun.up();
        }
      },
    });
    await restart;
    expect(restart, 'the image never reached 40 %').toBeDefined();
    const node12 = lab.nailgun.nodeByMac(ceph.macs[0] as string);
    // While Nailgun was away the agent kept reporting (its log posts were refused, then landed).
    const refusedRun = lab.nailgun.refused.slice(refusedAtRestart).filter((q) => q.path.startsWith('/api/nodes/agent/tasks/'));
    expect(refusedRun.length, 'no agent request reached the restarting Nailgun').toBeGreaterThan(0);
    // No node lost or provisioned twice: one node more than before, discovered once, one provisioning message.
    expect(lab.nailgun.nodes()).toHaveLength(nodesBefore + 1);
    expect(node12?.discoveries).toBe(1);
    expect(lab.nailgun.rpcs.filter((m) => JSON.stringify(m).includes(ceph.name))).toHaveLength(1);
    // The call-back was refused while Nailgun was down, retried, and landed once.
    expect(lab.nailgun.refused.filter(isCallback).length).toBeGreaterThan(0);
    expect(node12?.provisioned).toHaveLength(1);
    record.addChecks([
      { name: 'Nailgun restarted mid-image: agent kept reporting, node neither lost nor provisioned twice', ok: true, detail: `${refusedRun.length} agent requests refused while it restarted` },
      { name: 'first-boot call-back while Nailgun was down: retried until it landed', ok: true, detail: `${lab.nailgun.refused.filter(isCallback).length} refused, 1 landed` },
    ]);
    const deployNames = new Set(['ssh', 'mcollective', 'deployment']);
    const deploy = r.checks.filter((c) => deployNames.has(c.name.split(':')[0] as string));
    for (const c of deploy) process.stdout.write(`${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}\n`);
    expect(deploy.map((c) => [c.name.split(':')[0], c.ok])).toEqual([['ssh', false], ['mcollective', false], ['deployment', false]]);
    expect(deploy[0]?.detail).toMatch(/refused the master's key.*authorized_keys/);
    expect(deploy[1]?.detail).toMatch(/broker refused the node's STOMP login as 'mcollective'.*mco_password/);
    expect(deploy[2]?.detail).toContain('not started');
    const status = lab.nailgun.nodeByMac(ceph.macs[0] as string);
    expect(status?.status).toBe('error');
    expect(status?.errorType).toBe('deploy');
    expect(status?.errorMessage).toMatch(/authorized_keys.*mco_password/);
    // Everything else about the node is as it should be.
    const others = r.checks.filter((c) => !deployNames.has(c.name.split(':')[0] as string) && c.name !== 'Nailgun status ready');
    for (const c of others) expect(c, `${c.name}: ${c.detail}`).toMatchObject({ ok: true });
    // Two journals on vda (one per OSD), one OSD on each of vdb and vdc, read by the booted node itself.
    expect(r.checks.filter((c) => /^partition \/dev\/vd.\d+ typed /.test(c.name)).map((c) => c.name.split(' ')[1])).toEqual(['/dev/vda5', '/dev/vda6', '/dev/vdb3', '/dev/vdc3']);
  }, TEST_TIMEOUT);

  it('stayed inside the lab: nothing the node or the master sent was addressed outside it', async () => {
    const c = await lab.master.containment();
    process.stdout.write(`containment: ${JSON.stringify(c)}\n`);
    expect(c).toEqual({ attempts: 0, dropped: 0, leaked: 0 });
  }, 60_000);

  it('the run report, opened in Chromium: the node\'s disks drawn as planned and as found; the refused deployment as FAIL cells', async () => {
    record.finish(lab.serialTail(ceph.name, 16_000));
    const { html } = writeRunReport(report(), 'reports', 'lab-e2e-ceph');
    const seen = await inspectReport(html, 'reports/lab-e2e-ceph.png');
    expectDrawnAsRecorded(seen, [record]);
    expect(seen.nodes.find((x) => x.name === ceph.name)?.checks.filter((c) => c.verdict === 'FAIL').map((c) => c.name.split(':')[0])).toEqual(
      expect.arrayContaining(['ssh', 'mcollective', 'deployment']));
  }, 120_000);
});
