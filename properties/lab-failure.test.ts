import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ForgeError } from '../agent/core/errors.js';
import { buildPlan } from '../agent/plan/build.js';
import { loadScenario } from '../agent/plan/fixtures.js';
import { NodeRecord } from '../lab/report/record.js';
import { runReportSchema } from '../lab/report/schema.js';
import { Stages } from '../lab/stages.js';
import { writeLabPropertyFailure } from './lab-failure.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-labprop-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a failing lab property case', () => {
  it('leaves its case, the one replay command and an HTML report drawing the failed layout with the failed step', async () => {
    const { data, inventory } = await loadScenario('two-disks-raid-lvm');
    const plan = buildPlan(data, inventory);
    const record = new NodeRecord('prop', '[sata/512/4096MiB sata/512/4096MiB] first: / on lvm, /boot raid1');
    record.report.plan = plan;
    const stages = new Stages();
    await stages.run('prop: layout 0: provision partition', 1000, async () => undefined);
    await stages.run('prop: layout 0: provision image', 1000, async () => {
      throw new ForgeError('IMAGE_WRITE_FAILED', 'write failed at image offset 4194304: EIO');
    }).catch((e: unknown) => {
      record.addChecks([{ name: 'layout 0: provision partition', ok: true, detail: 'exit 0' }, { name: 'layout 0: provision image', ok: false, detail: 'exit 1' }]);
      record.agentLine('{"event":"image.write.failed","offset":4194304}');
      record.fail(e, 'FORGE-TASK: done 3 exit=1\n');
    });
    const f = writeLabPropertyFailure({ seed: 1234, path: '0:1', counterexample: { disks: [4096, 4096] }, record, stages: stages.records, startedAt: new Date() }, dir);

    expect(JSON.parse(readFileSync(f.caseFile, 'utf8'))).toEqual({ disks: [4096, 4096] });
    expect(f.replay).toBe('FORGE_PROP_SEED=1234 FORGE_PROP_PATH=0:1 FORGE_LAB_PROP_RUNS=1 npx vitest run properties/lab-provision.property.test.ts');
    const html = readFileSync(f.html, 'utf8');
    expect(html).toContain(f.replay);
    expect(html).toContain('IMAGE_WRITE_FAILED');
    expect(html).toContain('image.write.failed');
    // Every planned partition drawn, the failed step's cell FAIL.
    const planned = plan.parteds.flatMap((d) => d.partitions);
    for (const p of planned) expect(html).toContain(`data-part="${p.device}"`);
    expect(html).toMatch(/data-check="layout 0: provision image"[\s\S]*?data-verdict="FAIL"/);
    // The JSON beside it reads back as a report (what a merge would read).
    const json = runReportSchema.parse(JSON.parse(readFileSync(f.html.replace(/\.html$/, '.json'), 'utf8')));
    expect(json.kind).toBe('property');
    expect(json.nodes[0]?.ok).toBe(false);
    expect(json.stages.map((s) => s.ok)).toEqual([true, false]);
  });
});
