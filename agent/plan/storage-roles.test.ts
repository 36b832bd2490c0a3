// Nailgun's storage-node volumes, planned as fuel-agent does: Ceph OSD data and
// journals are partitions typed with the data's partition_guid and never
// formatted (ceph-disk finds them by type); a journal volume becomes one
// partition per OSD; Swift's `mount: "none"` xfs is made but never mounted.
import { describe, expect, it } from 'vitest';
import { fstabEntries } from '../bootloader/fstab.js';
import { parseProvisionData } from '../schema/load.js';
import type { ProvisionData } from '../schema/provision-data.js';
import { buildPlan, UNMOUNTED } from './build.js';
import { CEPH_JOURNAL_MAX, CEPH_JOURNAL_NAME, CEPH_OSD_NAME } from './ceph.js';
import { loadScenario } from './fixtures.js';
import { planViolations } from './invariants.js';
import type { Plan, PlannedPartition } from './types.js';

const OSD_GUID = '4fbd7e29-9d25-41b8-afd0-062c0ceff05d';
const JOURNAL_GUID = '45b0969e-9b03-4f30-b4c6-b4b80ceff106';
const SWIFT_GUID = 'deadbeef-9d34-4175-8ded-1ce68967a5ee';

const parts = (plan: Plan): PlannedPartition[] => plan.parteds.flatMap((d) => d.partitions);
const named = (plan: Plan, name: string) => parts(plan).filter((p) => p.name === name);
const fsOn = (plan: Plan, device: string) => plan.fss.find((f) => f.device === device);
/** Edit the data as JSON, as Nailgun would have sent it, and re-validate. */
const edit = (data: ProvisionData, f: (d: any) => void): ProvisionData => {
  const d = structuredClone(data) as any;
  f(d);
  return parseProvisionData(d);
};

describe('Ceph OSD node (fixtures/scenarios/ceph-osd.json)', () => {
  it('splits the journal volume into one partition per OSD, typed with the journal GUID', async () => {
    const { data, inventory } = await loadScenario('ceph-osd');
    const plan = buildPlan(data, inventory);
    expect(planViolations(plan)).toEqual([]);
    // 512 MiB of journal for the two OSDs on vdb and vdc: two 256 MiB partitions on vda,
    // after the OS PV and before the configdrive (fuel-agent's order).
    expect(named(plan, CEPH_JOURNAL_NAME).map((p) => [p.device, p.size, p.guid, p.role])).toEqual([
      ['/dev/vda5', 256, JOURNAL_GUID, 'none'],
      ['/dev/vda6', 256, JOURNAL_GUID, 'none'],
    ]);
    expect(plan.configdrive?.device).toBe('/dev/vda7');
  });

  it('makes each OSD a partition with the OSD GUID and no filesystem; zero-size volumes make nothing', async () => {
    const { data, inventory } = await loadScenario('ceph-osd');
    const plan = buildPlan(data, inventory);
    expect(named(plan, CEPH_OSD_NAME).map((p) => [p.device, p.size, p.guid, p.flags])).toEqual([
      ['/dev/vdb3', 1536, OSD_GUID, []],
      ['/dev/vdc3', 1536, OSD_GUID, []],
    ]);
    for (const p of [...named(plan, CEPH_OSD_NAME), ...named(plan, CEPH_JOURNAL_NAME)]) expect(fsOn(plan, p.device)).toBeUndefined();
    // vda's ceph volume and vdb/vdc's journal volumes are size 0 in the data.
    expect(plan.parteds.map((d) => d.partitions.length)).toEqual([7, 3, 3]);
    // Nothing but the OS is mounted: / and /boot, plus swap.
    expect(plan.fss.map((f) => f.mount)).toEqual(['/', '/boot', 'swap']);
    expect(plan.warnings).toBeUndefined();
  });

  it('spreads OSDs over several journals, the first ones taking the remainder, each at most 10 GiB', async () => {
    const { data, inventory } = await loadScenario('ceph-osd');
    // Three OSDs (a third on vda), journals on vdb and vdc: ceil(3/2) = 2 per journal volume, 2 then 1.
    const three = edit(data, (d) => {
      const [vda, vdb, vdc] = d.ks_meta.pm_data.ks_spaces;
      vda.volumes.find((v: any) => v.name === 'ceph').size = 100;
      vda.volumes.find((v: any) => v.name === 'cephjournal').size = 0;
      vdb.volumes.find((v: any) => v.name === 'cephjournal').size = 300;
      vdc.volumes.find((v: any) => v.name === 'cephjournal').size = 300;
      vdb.volumes.find((v: any) => v.name === 'ceph').size = 1000;
      vdc.volumes.find((v: any) => v.name === 'ceph').size = 1000;
    });
    const plan = buildPlan(three, inventory);
    expect(named(plan, CEPH_JOURNAL_NAME).map((p) => [p.device, p.size])).toEqual([
      ['/dev/vdb3', 150],
      ['/dev/vdb4', 150],
      ['/dev/vdc3', 150],
    ]);
    expect(named(plan, CEPH_OSD_NAME).map((p) => p.device)).toEqual(['/dev/vda5', '/dev/vdb5', '/dev/vdc4']);
    // A big journal volume is cut to 10 GiB partitions (checked on a big disk).
    const big = edit(data, (d) => (d.ks_meta.pm_data.ks_spaces[0].volumes.find((v: any) => v.name === 'cephjournal').size = 30000));
    const bigInv = structuredClone(inventory);
    bigInv.disks[0]!.size = 64 * 1024 * 2 ** 20;
    expect(named(buildPlan(big, bigInv), CEPH_JOURNAL_NAME).map((p) => p.size)).toEqual([CEPH_JOURNAL_MAX, CEPH_JOURNAL_MAX]);
  });

  it('journals without any OSD make no partition', async () => {
    const { data, inventory } = await loadScenario('ceph-osd');
    const noOsd = edit(data, (d) => {
      for (const s of d.ks_meta.pm_data.ks_spaces) if (s.type === 'disk') for (const v of s.volumes) if (v.name === 'ceph') v.size = 0;
    });
    expect(named(buildPlan(noOsd, inventory), CEPH_JOURNAL_NAME)).toEqual([]);
  });
});

describe('Swift node (fixtures/scenarios/swift-storage.json)', () => {
  it('makes xfs on each swift partition, typed with its GUID, unmounted and unlabelled', async () => {
    const { data, inventory } = await loadScenario('swift-storage');
    const plan = buildPlan(data, inventory);
    expect(planViolations(plan)).toEqual([]);
    const swift = named(plan, 'swift-storage');
    expect(swift.map((p) => [p.device, p.size, p.guid, p.role])).toEqual([
      ['/dev/vda5', 512, SWIFT_GUID, 'none'],
      ['/dev/vdb3', 1536, SWIFT_GUID, 'none'],
    ]);
    for (const p of swift) {
      // disk_label null: no label at all (not "null", not "").
      expect(fsOn(plan, p.device)).toEqual({ device: p.device, mount: UNMOUNTED, type: 'xfs', mkfsOptions: [], mountOptions: 'defaults', fromImage: false, keepData: false });
    }
    // Mounted filesystems first (the order to mount them in), then swap and the unmounted ones.
    expect(plan.fss.map((f) => f.mount).slice(0, 2)).toEqual(['/', '/boot']);
    expect(plan.fss.map((f) => f.mount).slice(2).sort()).toEqual([UNMOUNTED, UNMOUNTED, 'swap']);
  });

  it('leaves unmounted filesystems out of fstab', async () => {
    const { data, inventory } = await loadScenario('swift-storage');
    const plan = buildPlan(data, inventory);
    const uuids = new Map(plan.fss.map((f, i) => [f.device, `uuid-${i}`]));
    const fstab = fstabEntries(plan.fss, uuids);
    expect(fstab.map((e) => [e.mount, e.type])).toEqual([['/', 'ext4'], ['/boot', 'ext2'], ['none', 'swap']]);
    expect(fstab.some((e) => e.device === '/dev/vda5' || e.device === '/dev/vdb3')).toBe(false);
  });
});

describe('labels of storage volumes', () => {
  it('"" and null mean no label; a given label is kept (cut to 12) even when the fs is not mounted', async () => {
    const { data, inventory } = await loadScenario('swift-storage');
    const labelled = edit(data, (d) => {
      d.ks_meta.pm_data.ks_spaces[0].volumes.find((v: any) => v.name === 'swift-storage').disk_label = '';
      d.ks_meta.pm_data.ks_spaces[1].volumes.find((v: any) => v.name === 'swift-storage').disk_label = 'swift-objects-1';
    });
    const plan = buildPlan(labelled, inventory);
    expect(fsOn(plan, '/dev/vda5')).not.toHaveProperty('label');
    expect(fsOn(plan, '/dev/vdb3')).toMatchObject({ mount: UNMOUNTED, type: 'xfs', label: 'swift-object' });
  });

  it('GPT partition names come from the volume names', async () => {
    const ceph = await loadScenario('ceph-osd');
    expect(buildPlan(ceph.data, ceph.inventory).parteds.map((d) => d.partitions.map((p) => p.name))).toEqual([
      ['bios_grub', 'uefi', 'Boot', 'pv-os', 'cephjournal', 'cephjournal', 'config-2'],
      ['bios_grub', 'uefi', 'ceph'],
      ['bios_grub', 'uefi', 'ceph'],
    ]);
  });

  it('file_system "none" on a mounted volume is refused, naming the field', async () => {
    const { data, inventory } = await loadScenario('ceph-osd');
    const bad = edit(data, (d) => (d.ks_meta.pm_data.ks_spaces[1].volumes.find((v: any) => v.name === 'ceph').mount = '/var/lib/ceph'));
    expect(() => buildPlan(bad, inventory)).toThrow(expect.objectContaining({ code: 'PLAN_INVALID', field: 'ks_meta.pm_data.ks_spaces[1].volumes[5].file_system' }));
  });
});
