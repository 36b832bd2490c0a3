// Property: any generated LVM/MD-free layout (sized for loop devices) executes on
// real loop devices and verifies; a second, different layout applied over the
// same disks (stale table, signatures and filesystems left behind) verifies too.
// LVM LVs and MD need device-mapper/md, which only the lab VMs have.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../agent/core/context.js';
import { silentLogger } from '../agent/core/log.js';
import type { Inventory } from '../agent/inventory/types.js';
import { executePartitioning } from '../agent/partition/execute.js';
import { ownLeaks } from '../agent/partition/test-layouts.js';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { createLoopDisks, type LoopDisk } from '../agent/testing/loop-disks.js';
import { probeGeometry } from '../agent/tools/blockdev.js';
import { formatDiff } from '../agent/verify/compare.js';
import { verifyPlan } from '../agent/verify/verify.js';
import { loopCaseArb, type GeneratedCase } from './generators.js';

const hostable = (c: GeneratedCase) => c.expect.rootOn === 'partition' && !(c.expect.withBoot && c.expect.bootRaid);

/** Points a generated case at real loop devices: names, inventory sizes; drops keep_data (nothing to keep yet). */
function onLoops(c: GeneratedCase, disks: readonly LoopDisk[], sizes: readonly number[]): { data: unknown; inventory: Inventory } {
  const data = structuredClone(c.data);
  const spaces = data.ks_meta.pm_data.ks_spaces as any[];
  const inventory: Inventory = { version: 1, disks: [] };
  spaces
    .filter((s) => s.type === 'disk')
    .forEach((s, i) => {
      const loop = disks[i]!;
      const name = loop.device.replace('/dev/', '');
      const inv = c.inventory.disks.find((d) => d.name === s.name)!;
      if (s.id === s.name) s.id = name;
      s.name = name;
      for (const v of s.volumes) {
        delete v.keep_data;
        // mkfs.xfs refuses filesystems under 300 MiB.
        if (v.file_system === 'xfs' && v.size < 320) v.file_system = 'ext4';
      }
      inventory.disks.push({ ...inv, name, path: loop.device, size: sizes[i]!, type: 'disk' });
    });
  for (const s of spaces.filter((x) => x.type === 'vg')) for (const v of s.volumes) delete v.keep_data;
  return { data, inventory };
}

const pairArb = fc
  .record({ n: fc.integer({ min: 1, max: 2 }), lss: fc.constantFrom(512 as const, 4096 as const) })
  .chain(({ n, lss }) =>
    loopCaseArb({ minDisks: n, maxDisks: n, maxDiskMiB: 2048, sectorSizes: [lss], exoticNames: false })
      .filter(hostable)
      .chain((first) => {
        const smallest = Math.min(...first.inventory.disks.map((d) => Math.floor(d.size / 1048576)));
        return loopCaseArb({ minDisks: n, maxDisks: n, minDiskMiB: smallest, maxDiskMiB: smallest, sectorSizes: [lss], exoticNames: false })
          .filter(hostable)
          .map((second) => ({ first, second, lss }));
      }),
  );

describe('partition property (loop devices)', () => {
  afterAll(async () => {
    expect(await ownLeaks(['prop'])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it('generated layouts execute and verify, and a second layout over the first verifies', async () => {
    await fc.assert(
      fc.asyncProperty(pairArb, async ({ first, second, lss }) => {
        const specs = first.inventory.disks.map((d) => ({ sizeMiB: Math.ceil(d.size / 1048576), sectorSize: lss, tag: 'prop' }));
        await using disks = await createLoopDisks(specs);
        const ctx = createCtx({ log: silentLogger });
        const sizes = await Promise.all(disks.map(async (d) => (await probeGeometry(ctx, d.device)).size));
        for (const c of [first, second]) {
          const { data, inventory } = onLoops(c, disks, sizes);
          const plan = buildPlan(parseProvisionData(data), inventory);
          const t0 = Date.now();
          await executePartitioning(ctx, plan, inventory);
          if (process.env.FORGE_PROP_DEBUG) console.log(disks.map((d) => d.sizeMiB), plan.fss.map((f) => `${f.type}`), Date.now() - t0);
          const res = await verifyPlan(ctx, plan, { skipImageFilesystems: true });
          expect(formatDiff(res.items)).toBe('');
          expect(res.ok).toBe(true);
        }
      }),
      { numRuns: Number(process.env.FORGE_PROP_RUNS ?? 6), endOnFailure: true },
    );
  }, 300_000);
});
