// The shared scenarios that need no device-mapper/md (single disk, with and
// without an ESP) executed on loop devices of the scenario's own size, then
// verified; the ESP layout is then applied over the plain one and verified.
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import type { Inventory } from '../inventory/types.js';
import { scenarioPaths, type ScenarioName } from '../plan/fixtures.js';
import { buildPlan } from '../plan/build.js';
import { parseProvisionData } from '../schema/load.js';
import { createLoopDisk } from '../testing/loop-disks.js';
import { formatDiff } from '../verify/compare.js';
import { verifyPlan } from '../verify/verify.js';
import { executePartitioning } from './execute.js';
import { ownLeaks } from './test-layouts.js';

/** The scenario with its one disk renamed to `device` (links kept, so matching still goes by by-id). */
async function onDevice(name: ScenarioName, device: string) {
  const p = scenarioPaths(name);
  const data = JSON.parse(await readFile(p.input, 'utf8'));
  const inventory = JSON.parse(await readFile(p.inventory, 'utf8')) as Inventory;
  const disk = inventory.disks[0]!;
  const kname = device.replace('/dev/', '');
  for (const s of data.ks_meta.pm_data.ks_spaces) {
    if (s.type !== 'disk') continue;
    if (s.id === disk.name) s.id = kname;
    s.name = kname;
  }
  inventory.disks = [{ ...disk, name: kname, path: device }];
  return { plan: buildPlan(parseProvisionData(data), inventory), inventory, sizeMiB: disk.size / 1048576 };
}

describe('shared single-disk scenarios on a loop device', () => {
  afterAll(async () => {
    expect(await ownLeaks(['scen'])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it('single-disk then esp-single-disk over it: both execute and verify', async () => {
    const probe = await onDevice('single-disk', '/dev/loop-placeholder0');
    await using disk = await createLoopDisk({ sizeMiB: probe.sizeMiB, tag: 'scen' });
    const ctx = createCtx({ log: silentLogger });
    for (const name of ['single-disk', 'esp-single-disk'] as const) {
      const { plan, inventory } = await onDevice(name, disk.device);
      expect(plan.parteds[0]!.device).toBe(disk.device);
      await executePartitioning(ctx, plan, inventory);
      const res = await verifyPlan(ctx, plan, { skipImageFilesystems: true });
      expect(formatDiff(res.items)).toBe('');
      expect(res.ok).toBe(true);
      expect(res.items.filter((i) => i.kind === 'partition').length).toBe(plan.parteds[0]!.partitions.length);
    }
  });
});
