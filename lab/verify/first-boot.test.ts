// The first-boot checks judge a node's call-back against the plan: a node that
// booted without a planned mount, swap, kernel parameter or VG activation fails,
// naming what is missing.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../agent/plan/build.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { imageDataFor, labScenario, nodeData, vmInventory } from '../scenario.js';
import { expectFirstBoot, firstBootChecks, type FirstBootExpectation } from './first-boot.js';

const META = {
  uri: 'file:///x', format: 'ext4' as const, container: 'gzip' as const, size: 300 * 2 ** 20, raw_size: 1400 * 2 ** 20,
  md5: 'a'.repeat(32), sha256: 'b'.repeat(64), raw_md5: 'c'.repeat(32), raw_sha256: 'd'.repeat(64),
};
const node = { uid: '7', hostname: 'node-7.domain.tld', macs: ['52:54:00:f0:07:00'], masterUrl: 'http://10.97.1.1:8000', nameServer: '10.97.1.2' };
const s = labScenario('two-disks-raid-lvm');
const data = nodeData(s, node, imageDataFor(META, '/cache/debian.img.gz', 'http://10.97.1.3/targetimages'));
const plan = buildPlan(parseProvisionData(data), vmInventory(s.disks));
const want = expectFirstBoot(data, { plan });

/** What a correctly provisioned node posts, built from the expectation itself. */
function goodBody(w: FirstBootExpectation): Record<string, any> {
  return {
    status: 'provisioned',
    boot_finished: true,
    cloud_init: { status: 'done', errors: [] },
    datasource: { name: 'ConfigDrive', platform: 'openstack', subplatform: 'config-disk (/dev/vda5)' },
    facts: {
      hostname: 'node-7',
      fqdn: w.fqdn,
      root_authorized_keys: w.publicKeys,
      files: w.files,
      kernel_cmdline: `BOOT_IMAGE=/vmlinuz root=/dev/mapper/os-root ro ${w.kernelParams} quiet`,
      mounts: ['/dev', '/proc', '/run', '/sys', ...(w.mounts ?? [])],
      swaps: ['/dev/dm-1'],
      units: { 'fuel-forge-lvm-activate.service': 'active' },
      failed_units: [],
      partitions: Object.fromEntries(Object.entries(w.partitionTypes ?? {}).map(([dev, t]) => [dev, { parttype: t.guid, fstype: t.fstype }])),
    },
  };
}

const failing = (body: unknown) => firstBootChecks(body, want).filter((c) => !c.ok);

describe('first-boot checks against the plan', () => {
  it('expects the plan\'s mounts, swap, kernel parameters and VG activation', () => {
    expect(want.mounts).toEqual(expect.arrayContaining(['/', '/boot', '/srv']));
    expect(want.swaps).toBe(1);
    expect(want.kernelParams).toContain('net.ifnames=0');
    expect(want.lvmActivateUnit).toBe(true);
    expect(failing(goodBody(want))).toEqual([]);
  });

  it('fails a node that came up without a planned mount, naming it', () => {
    const body = goodBody(want);
    body['facts'].mounts = body['facts'].mounts.filter((m: string) => m !== '/srv');
    expect(failing(body)).toEqual([expect.objectContaining({ name: 'every planned filesystem mounted at boot', detail: 'not mounted: /srv' })]);
  });

  it('fails a node whose kernel lost a planned parameter, or whose swap or VG unit is down', () => {
    const body = goodBody(want);
    body['facts'].kernel_cmdline = 'root=/dev/mapper/os-root ro console=tty0 console=ttyS0,115200n8';
    body['facts'].swaps = [];
    body['facts'].units = { 'fuel-forge-lvm-activate.service': 'failed' };
    body['facts'].failed_units = ['fuel-forge-lvm-activate.service'];
    const bad = failing(body);
    expect(bad.map((c) => c.name)).toEqual(['planned swap active', 'booted with the planned kernel parameters', 'VG activation unit ran']);
    expect(bad[1]?.detail).toContain('net.ifnames=0');
    expect(bad[2]?.detail).toContain('failed units: fuel-forge-lvm-activate.service');
  });

  it('without a plan, checks only what the configdrive set', () => {
    const names = firstBootChecks(goodBody(want), expectFirstBoot(data)).map((c) => c.name);
    expect(names).not.toContain('every planned filesystem mounted at boot');
    expect(names).toContain('datasource ConfigDrive');
  });
});

describe('first-boot checks of storage partitions (Ceph OSD, Swift)', () => {
  const OSD = '4fbd7e29-9d25-41b8-afd0-062c0ceff05d';
  const JOURNAL = '45b0969e-9b03-4f30-b4c6-b4b80ceff106';
  const SWIFT = 'deadbeef-9d34-4175-8ded-1ce68967a5ee';
  const expectFor = (name: 'ceph-osd' | 'swift-storage') => {
    const sc = labScenario(name);
    const d = nodeData(sc, node, imageDataFor(META, '/cache/debian.img.gz', 'http://10.97.1.3/targetimages'));
    return expectFirstBoot(d, { plan: buildPlan(parseProvisionData(d), vmInventory(sc.disks)) });
  };

  it('expects each partition the data typed, with its GUID and no filesystem (Ceph) or xfs (Swift)', () => {
    expect(expectFor('ceph-osd').partitionTypes).toEqual({
      '/dev/vda5': { guid: JOURNAL, fstype: null },
      '/dev/vda6': { guid: JOURNAL, fstype: null },
      '/dev/vdb3': { guid: OSD, fstype: null },
      '/dev/vdc3': { guid: OSD, fstype: null },
    });
    expect(expectFor('swift-storage').partitionTypes).toEqual({ '/dev/vda5': { guid: SWIFT, fstype: 'xfs' }, '/dev/vdb3': { guid: SWIFT, fstype: 'xfs' } });
    // The Swift xfs is made but never mounted: not among the mounts the node must have.
    expect(expectFor('swift-storage').mounts).toEqual(['/', '/boot']);
    // No partition_guid in the data: nothing to check (the GUIDs we choose are the host-side check's).
    expect(want.partitionTypes).toBeUndefined();
  });

  it('passes a node that reads them so (any case), fails one with a wrong type, a filesystem or a missing partition', () => {
    const w = expectFor('ceph-osd');
    const body = goodBody(w);
    body['facts'].partitions['/dev/vda5'].parttype = JOURNAL.toUpperCase();
    expect(firstBootChecks(body, w).filter((c) => !c.ok)).toEqual([]);
    body['facts'].partitions['/dev/vdb3'] = { parttype: '0fc63daf-8483-4772-8e79-3d69d8477de4', fstype: null };
    body['facts'].partitions['/dev/vdc3'] = { parttype: OSD, fstype: 'xfs' };
    delete body['facts'].partitions['/dev/vda6'];
    expect(firstBootChecks(body, w).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([
      `partition /dev/vda6 typed ${JOURNAL}, no filesystem on the node: not on the node`,
      `partition /dev/vdb3 typed ${OSD}, no filesystem on the node: node reads type 0fc63daf-8483-4772-8e79-3d69d8477de4, filesystem null`,
      `partition /dev/vdc3 typed ${OSD}, no filesystem on the node: node reads type ${OSD}, filesystem xfs`,
    ]);
  });
});
