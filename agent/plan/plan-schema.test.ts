import { describe, expect, it } from 'vitest';
import { ForgeErrors, exitCodeFor, type ForgeError } from '../core/errors.js';
import { loadInventory } from '../inventory/load.js';
import { parsePlan } from '../partition/load-plan.js';
import { testPlan } from '../partition/test-layouts.js';
import { loadProvisionData } from '../schema/load.js';
import { buildPlan } from './build.js';
import { FIXTURE_PAIRS } from './fixtures.js';
import { planSoundnessProblems } from './invariants.js';
import type { Plan } from './types.js';

function refusal(doc: unknown): ForgeErrors {
  try {
    parsePlan(doc, '--plan "p.json"');
  } catch (e) {
    expect(e).toBeInstanceOf(ForgeErrors);
    return e as ForgeErrors;
  }
  throw new Error('expected the plan to be refused');
}
const fields = (e: ForgeErrors): (string | undefined)[] => e.errors.map((x: ForgeError) => x.field);

const twoParts = (): Plan =>
  testPlan([{ device: '/dev/sdx', sizeMiB: 128, sectorSize: 512, parts: [{ size: 16 }, { size: 64, fs: { type: 'ext4', label: 'root', mount: '/' } }] }]);

describe('parsePlan', () => {
  it.each(FIXTURE_PAIRS.filter((p) => p.expect === 'plan').map((p) => [p.name, p]))('reads back the JSON plan of %s unchanged', async (_n, p) => {
    const plan = buildPlan(await loadProvisionData(p.input), await loadInventory(p.inventory));
    const doc: unknown = JSON.parse(JSON.stringify(plan));
    expect(parsePlan(doc)).toEqual(doc);
  });

  it('reads a hand-made plan that does not follow fuel-agent layout', () => {
    const plan = twoParts();
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('refuses an overlapping partition, naming it, as bad input (exit 2)', () => {
    const plan = twoParts();
    const p2 = plan.parteds[0]!.partitions[1]!;
    p2.begin -= 4;
    p2.end -= 4;
    const e = refusal(plan);
    expect(e.code).toBe('PLAN_INVALID');
    expect(exitCodeFor(e)).toBe(2);
    expect(fields(e)).toEqual(['parteds[0].partitions[1].begin']);
    expect(e.message).toBe('--plan "p.json": parteds[0].partitions[1].begin: /dev/sdx2: begins at 13, inside /dev/sdx1 (which ends at 17)');
  });

  it('refuses a partition past the end of its disk and an unplanned md member', () => {
    const plan = twoParts();
    plan.parteds[0]!.size = 64;
    plan.mds.push({ name: 'data', device: '/dev/md/data', level: 'raid1', members: ['/dev/sdx2', '/dev/sdy2'], metadata: '1.2', keepData: false });
    expect(fields(refusal(plan))).toEqual(['parteds[0].partitions[1].end', 'mds[0].members']);
  });

  it('names the field of a wrong type, an option as a device, a bad label and an unknown key', () => {
    const plan = twoParts() as unknown as { parteds: { partitions: Record<string, unknown>[] }[]; fss: Record<string, unknown>[]; bogus?: number };
    plan.parteds[0]!.partitions[0]!.size = '16';
    plan.parteds[0]!.partitions[1]!.device = '--zap-all';
    plan.fss[0]!.label = 'a-label-longer-than-16';
    plan.bogus = 1;
    const e = refusal(plan);
    expect(fields(e).sort()).toEqual(['(document)', 'fss[0].label', 'parteds[0].partitions[0].size', 'parteds[0].partitions[1].device']);
    expect(e.errors.every((x) => x.code === 'PLAN_INVALID' && x.message.startsWith('--plan "p.json": '))).toBe(true);
  });

  it('keeps the old message for what is not a plan at all', () => {
    for (const doc of [null, [], { version: 2 }]) {
      expect(() => parsePlan(doc, '--plan "x"')).toThrow('--plan "x": not a version 1 plan (provision plan --json)');
    }
  });

  it('finds nothing unsound in a plan buildPlan made', async () => {
    const p = FIXTURE_PAIRS.find((x) => x.expect === 'plan')!;
    expect(planSoundnessProblems(buildPlan(await loadProvisionData(p.input), await loadInventory(p.inventory)))).toEqual([]);
  });
});
