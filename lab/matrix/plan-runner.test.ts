// The dry run's checks are checks: a plan whose root cannot hold the image fails.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../agent/plan/build.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { imageDataFor, labScenario, nodeData, vmInventory } from '../scenario.js';
import { DRY_RUN_IMAGE, planChecks } from './plan-runner.js';

const node = { uid: '1', hostname: 'node-1.domain.tld', macs: ['52:54:00:f0:01:00'], masterUrl: 'http://10.97.1.1:8000', nameServer: '10.97.1.2' };

describe('dry-run plan checks', () => {
  const s = labScenario('two-disks-raid-lvm');
  const plan = buildPlan(parseProvisionData(nodeData(s, node, imageDataFor(DRY_RUN_IMAGE, 'i.img.gz', 'http://10.97.1.3'))), vmInventory(s.disks));
  const root = plan.lvs.find((l) => l.device === plan.images[0]?.targetDevice)?.size ?? 0;

  it('pass for a lab scenario with the image the lab serves', () => {
    expect(root).toBeGreaterThan(0);
    expect(planChecks(plan, DRY_RUN_IMAGE).filter((c) => !c.ok)).toEqual([]);
  });

  it('fail "image fits /" for an image bigger than the root volume, naming both sizes', () => {
    const big = { ...DRY_RUN_IMAGE, raw_size: (root + 1) * 2 ** 20 };
    const failed = planChecks(plan, big).filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(['plan: image fits /']);
    expect(failed[0]?.detail).toContain(`${root} MiB for ${root + 1} MiB raw`);
  });

  it('fail when a disk is matched by name, or the configdrive is missing', () => {
    const byName = { ...plan, parteds: plan.parteds.map((d, i) => (i === 0 ? { ...d, matchedBy: 'name' as const } : d)) };
    expect(planChecks(byName, DRY_RUN_IMAGE).filter((c) => !c.ok).map((c) => c.detail)).toEqual([`not by link: ${plan.parteds[0]?.device} (name)`]);
    const { configdrive: _, ...noCd } = plan;
    expect(planChecks(noCd, DRY_RUN_IMAGE).filter((c) => !c.ok).map((c) => c.name)).toEqual(['plan: configdrive planned']);
  });
});
