// The lab's full matrix (FORGE_LAB_MATRIX=full; CI's fast tier is lab/e2e.test.ts):
// every scenario — the Fuel sample scaled to VMs, single disk, two disks with
// RAID1 /boot + LVM, NVMe (4K sectors) + SATA, keep_data re-provisioning, UEFI
// ESP layout — provisioned end to end on its own node, then two nodes at once on
// the same L2 segment (one dnsmasq, one image server, one Nailgun).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap, ensureDeployImage } from '../agent/host/artifacts.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { publishImage, type PublishedImage } from './images.js';
import { orchestratorEnv, startLab, type Lab } from './lab.js';
import type { OrchestratorEnv } from './orchestrator.js';
import { runScenarioOnNode } from './scenario-run.js';
import { LAB_SCENARIOS, labScenario, type LabScenarioName } from './scenario.js';
import { DEFAULT_PROFILES } from './mocks/provision-rpc.js';
import { Stages } from './stages.js';
import { labMac } from './vm/qemu.js';

const full = process.env['FORGE_LAB_MATRIX'] === 'full';
const runner = new ExecaRunner();
const stages = new Stages((l) => process.stdout.write(l + '\n'));
let lab: Lab;
let env: OrchestratorEnv;
let image: PublishedImage;
let imagesDir = '';
let nodeIndex = 20;

async function scenarioOnNewNode(name: LabScenarioName): Promise<void> {
  const i = nodeIndex++;
  const r = await runScenarioOnNode({
    lab, env, runner, image, scenario: labScenario(name),
    node: { name: `node-${i}`, hostname: `node-${i}.domain.tld`, macs: [labMac(i)], profile: DEFAULT_PROFILES.bootstrap },
  });
  for (const c of r.checks) expect(c, `${name}: ${c.name}: ${c.detail}`).toMatchObject({ ok: true });
}

describe.runIf(full)('lab matrix (every scenario end to end)', () => {
  beforeAll(async () => {
    const boot = await ensureBootstrap();
    const built = await ensureDeployImage();
    imagesDir = join(process.env['FORGE_CACHE_DIR'] ?? '/var/cache/fuel-forge', 'lab', `images-${process.pid}`);
    image = publishImage(imagesDir, built);
    lab = await startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir });
    env = orchestratorEnv(lab, stages, () => undefined);
  }, 60 * 60_000);

  afterAll(async () => {
    process.stdout.write(`\n== lab matrix stage timings ==\n${stages.table()}\n`);
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/lab-matrix-stages.json', JSON.stringify(stages.records, null, 2) + '\n');
    await lab?.dispose();
    if (imagesDir) rmSync(imagesDir, { recursive: true, force: true });
  }, 300_000);

  it.each(LAB_SCENARIOS)('%s: PXE → provision → verify → first boot → host-side disk check', (name) => scenarioOnNewNode(name), 45 * 60_000);

  it('two nodes at once on one L2 segment: each gets its own lease and both provision', async () => {
    await Promise.all((['single-disk', 'nvme-sata'] as const).map((name) => scenarioOnNewNode(name)));
    const acks = await lab.master.dhcpAcks();
    const byMac = new Map(acks.map((a) => [a.mac, a.ip]));
    const ips = [labMac(nodeIndex - 2), labMac(nodeIndex - 1)].map((m) => byMac.get(m));
    expect(ips.every(Boolean)).toBe(true);
    expect(new Set(ips).size).toBe(2);
  }, 60 * 60_000);
});
