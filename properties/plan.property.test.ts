// Properties of buildPlan over generated (provision data, inventory) pairs, and
// of the validation over invalid mutations of them. numRuns stay modest: the
// whole file runs in a few seconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ForgeError, ForgeErrors } from '../agent/core/errors.js';
import { buildPlan } from '../agent/plan/build.js';
import { planViolations } from '../agent/plan/invariants.js';
import { isNvme } from '../agent/plan/names.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { loopCaseArb, mutate, mutationKindArb, validCaseArb, vmCaseArb, type GeneratedCase } from './generators.js';

const plan = (c: GeneratedCase) => buildPlan(parseProvisionData(c.data), c.inventory);

function failure(fn: () => unknown): ForgeError[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ForgeErrors) return [...e.errors];
    if (e instanceof ForgeError) return [e];
    throw e;
  }
  return [];
}

describe('buildPlan properties', () => {
  it('plans every valid input: no overlaps, aligned, inside the disk, sizes add up, one /, LVs fit their VG', () => {
    fc.assert(
      fc.property(validCaseArb(), (c) => {
        const p = plan(c);
        expect(planViolations(p)).toEqual([]);
        expect(p.parteds.map((d) => d.device)).toEqual(c.expect.devices);
      }),
      { numRuns: 300 },
    );
  });

  it('holds for loop-device and VM sized layouts', () => {
    fc.assert(
      fc.property(fc.oneof(loopCaseArb(), vmCaseArb()), (c) => {
        const p = plan(c);
        expect(planViolations(p)).toEqual([]);
        for (const d of p.parteds) expect(d.size).toBeLessThanOrEqual(32 * 1024);
      }),
      { numRuns: 100 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(validCaseArb({ maxDisks: 4 }), (c) => {
        expect(JSON.stringify(plan(c))).toBe(JSON.stringify(plan(structuredClone(c))));
      }),
      { numRuns: 100 },
    );
  });

  it('places /boot as asked, never on NVMe when another disk offers it', () => {
    fc.assert(
      fc.property(validCaseArb(), (c) => {
        const p = plan(c);
        const boot = p.fss.find((f) => f.mount === '/boot');
        expect(boot !== undefined).toBe(c.expect.withBoot);
        if (!boot) return;
        const bootParts = p.mds.find((m) => m.device === boot.device)?.members ?? [boot.device];
        const nonNvmeOffered = c.expect.bootRaid ? c.expect.devices.some((d) => !isNvme(d)) : !isNvme(c.expect.devices[0]!);
        if (nonNvmeOffered) for (const m of bootParts) expect(isNvme(m)).toBe(false);
        for (const md of p.mds) if (md.device === boot.device) expect(md.metadata).toBe('1.0');
        expect(p.bootloader.bootDevice).toBe(boot.device);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps what keep_data marks, and everything under it', () => {
    fc.assert(
      fc.property(validCaseArb({ maxDisks: 4 }), (c) => {
        const p = plan(c);
        for (const m of c.expect.kept) expect(p.fss.find((f) => f.mount === m)?.keepData).toBe(true);
        const keptParts = new Set(p.parteds.flatMap((d) => d.partitions.filter((x) => x.keepData).map((x) => x.device)));
        for (const pv of p.pvs) if (pv.keepData) expect(keptParts.has(pv.device)).toBe(true);
        for (const lv of p.lvs) expect(lv.keepData).toBe(p.vgs.find((v) => v.name === lv.vg)!.keepData);
        for (const d of p.parteds) for (const x of d.partitions) if (x.role === 'bios_grub' || x.role === 'configdrive') expect(x.keepData).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('invalid mutations are rejected with their path', () => {
  it('drop a required field, negative size, wrong type, unknown disk, oversize volume', () => {
    fc.assert(
      fc.property(validCaseArb({ maxDisks: 4 }), mutationKindArb, fc.nat(), (c, kind, pick) => {
        const m = mutate(c, kind, pick);
        const errors = failure(() => buildPlan(parseProvisionData(m.data), c.inventory));
        expect(errors.length).toBeGreaterThan(0);
        const hit = errors.find((e) => e.field === m.field);
        expect(hit, `${kind}: expected ${m.code} at ${m.field}, got ${errors.map((e) => e.message).join(' | ')}`).toBeDefined();
        expect(hit!.code).toBe(m.code);
        expect(hit!.message.startsWith(`${m.field}: `)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
