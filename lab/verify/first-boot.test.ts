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
