// The lab property's cases: a generated layout for VM disks, a second layout for
// the same disks, and the leftovers of a crash made from the second one's plan
// (properties/stale-state.ts). Pure: the VM test runs them, anything can sample them.
import fc from 'fast-check';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { retargetToVm, vmInventory } from '../lab/scenario.js';
import type { VmDiskSpec } from '../lab/vm/qemu.js';
import { validCaseArb, type GeneratedCase } from './generators.js';
import { describeLeftover, leftoversArb, type Leftover } from './stale-state.js';

/** The image every case writes onto / (served by the node's mock master). */
export const IMAGE = 'prop-root.img.gz';
const MiB = 2 ** 20;

export interface VmCase {
  disks: VmDiskSpec[];
  first: GeneratedCase;
  second: GeneratedCase;
  /** Made on the disks from the second layout before its run (a crash's leftovers). */
  stale: Leftover[];
}

/** The VM's disks for a generated case: bus from the disk kind, its size and sector size. */
const vmDisks = (c: GeneratedCase): VmDiskSpec[] =>
  c.inventory.disks.map((d, i) => ({
    sizeMiB: Math.floor(d.size / MiB),
    bus: d.name.startsWith('nvme') ? 'nvme' : 'sata',
    logicalBlockSize: d.logicalSectorSize === 4096 ? 4096 : 512,
    serial: `prop-${i}`,
  }));

/**
 * A generated case on the VM's disks (lab/scenario.ts retargetToVm), without
 * keep_data (fresh disks hold nothing to keep), xfs only where mkfs.xfs accepts
 * the size, and the lab's image on /.
 */
export function onVm(c: GeneratedCase, disks: readonly VmDiskSpec[], imagesUrl: string): Record<string, any> {
  const data = retargetToVm(c.data, disks);
  for (const s of data.ks_meta.pm_data.ks_spaces as any[]) {
    for (const v of s.volumes) {
      delete v.keep_data;
      if (v.file_system === 'xfs' && v.size < 320) v.file_system = 'ext4';
    }
  }
  data.ks_meta.image_data = { '/': { uri: `${imagesUrl}/${IMAGE}`, format: 'ext4', container: 'gzip' } };
  return data;
}

/** Room on / for the test image (24 MiB raw) and the configdrive's templates. */
function rootFits(c: GeneratedCase): boolean {
  const vols = (c.data.ks_meta.pm_data.ks_spaces as any[]).flatMap((s) => s.volumes as any[]);
  return vols.some((v) => v.mount === '/' && v.size >= 48);
}

/** One line per case for the CI log: disks, then each layout's shape. */
export function describeCase(c: VmCase): string {
  const disks = c.disks.map((d) => `${d.bus}/${d.logicalBlockSize}/${d.sizeMiB}MiB`).join(' ');
  const shape = (g: GeneratedCase): string =>
    `/ on ${g.expect.rootOn}${g.expect.withBoot ? `, /boot ${g.expect.bootRaid ? 'raid1' : 'plain'}` : ''}${g.expect.withEsp ? ', esp' : ''}`;
  return `[${disks}] first: ${shape(c.first)}; second: ${shape(c.second)}; leftovers: ${c.stale.map(describeLeftover).join(', ') || 'none'}`;
}

export const planOnVm = (g: GeneratedCase, disks: readonly VmDiskSpec[]) => buildPlan(parseProvisionData(onVm(g, disks, 'http://lab.invalid/targetimages')), vmInventory(disks));

/**
 * The second layout is generated for SATA disks but lands on the first one's disks
 * (NVMe among them): keep it only when it is valid there, e.g. no plain /boot on
 * an NVMe disk without an ESP, which the planner rightly refuses.
 */
function plansOn(g: GeneratedCase, disks: readonly VmDiskSpec[]): boolean {
  try {
    planOnVm(g, disks);
    return true;
  } catch {
    return false;
  }
}

export const caseArb: fc.Arbitrary<VmCase> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) =>
    validCaseArb({ sizing: 'vm', minDisks: n, maxDisks: n, minDiskMiB: 1024, maxDiskMiB: 4096, kinds: ['sata', 'nvme'] })
      .filter(rootFits)
      .map((first) => ({ first, disks: vmDisks(first) }))
      .filter(({ first, disks }) => plansOn(first, disks))
      .chain(({ first, disks }) => {
        const smallest = Math.min(...disks.map((d) => d.sizeMiB));
        return validCaseArb({ sizing: 'vm', minDisks: n, maxDisks: n, minDiskMiB: smallest, maxDiskMiB: smallest, kinds: ['sata'] })
          .filter((second) => rootFits(second) && plansOn(second, disks))
          .chain((second) => leftoversArb(planOnVm(second, disks)).map((stale) => ({ disks, first, second, stale })));
      }),
  );
