// The lab's full matrix (FORGE_LAB_MATRIX=full; CI's fast tier is lab/e2e.test.ts):
// every scenario — the Fuel sample scaled to VMs, single disk, two disks with
// RAID1 /boot + LVM, NVMe (4K sectors) + SATA, keep_data re-provisioning, UEFI
// ESP layout, Ceph and Swift storage nodes — provisioned end to end on its own
// node, then two nodes at once on the same L2 segment (one dnsmasq, one image
// server, one Nailgun). The cases and how each runs are `lab matrix`'s
// (lab/matrix/): this file is the same run as vitest tests, one per case;
// `tsx lab/cli.ts matrix [--shard i/n]` is the same run for CI machines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MATRIX_CASES } from './matrix/cases.js';
import { vmCaseRunner } from './matrix/vm-runner.js';
import { Stages } from './stages.js';
import { REPORT_VERSION, type NodeReport } from './report/model.js';
import { writeRunReport } from './report/render.js';

const full = process.env['FORGE_LAB_MATRIX'] === 'full';
const signal = new AbortController().signal;
const stages = new Stages((l) => process.stdout.write(l + '\n'), signal);
const cases = vmCaseRunner({ log: () => undefined });
const startedAt = new Date().toISOString();
const nodes: NodeReport[] = [];

describe.runIf(full)('lab matrix (every scenario end to end)', () => {
  beforeAll(() => cases.setup?.(stages, signal), 60 * 60_000);

  afterAll(async () => {
    process.stdout.write(`\n== lab matrix stage timings ==\n${stages.table()}\n`);
    mkdirSync('reports', { recursive: true });
    writeFileSync('reports/lab-matrix-stages.json', JSON.stringify(stages.records, null, 2) + '\n');
    const report = writeRunReport({
      version: REPORT_VERSION, kind: 'matrix', title: 'lab matrix (vitest)', startedAt, stages: stages.records, nodes,
      rerun: 'FORGE_LAB_MATRIX=full npx vitest run --project vm lab/matrix.test.ts',
    }, 'reports', 'lab-matrix');
    process.stdout.write(`report: ${report.html}\n`);
    await cases.dispose?.();
  }, 300_000);

  it.each(MATRIX_CASES)('%s: PXE → provision → verify → first boot → host-side disk check', async (id) => {
    const out = await cases.run({ id, position: MATRIX_CASES.indexOf(id), stages, signal });
    nodes.push(...out.nodes);
    for (const n of out.nodes) {
      expect(n.error, `${n.name} (${n.scenario}) stopped`).toBeUndefined();
      for (const c of n.checks) expect(c, `${n.name} (${n.scenario}): ${c.name}: ${c.detail}`).toMatchObject({ ok: true });
    }
    for (const c of out.checks ?? []) expect(c, `${id}: ${c.name}: ${c.detail}`).toMatchObject({ ok: true });
  }, 60 * 60_000);
});
