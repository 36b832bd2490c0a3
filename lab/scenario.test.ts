// Every lab scenario plans against the inventory its VM presents, with the image
// the lab serves, before a VM is ever booted for it.
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../agent/plan/build.js';
import { planViolations } from '../agent/plan/invariants.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { fuelSampleScenario, imageDataFor, LAB_SCENARIOS, labMcoSettings, labPublicKey, labScenario, nodeData, retargetToVm, vmInventory } from './scenario.js';

const META = {
  uri: 'file:///x', format: 'ext4' as const, container: 'gzip' as const, size: 300 * 2 ** 20, raw_size: 1400 * 2 ** 20,
  md5: 'a'.repeat(32), sha256: 'b'.repeat(64), raw_md5: 'c'.repeat(32), raw_sha256: 'd'.repeat(64),
};
const node = { uid: '3', hostname: 'node-3.domain.tld', macs: ['52:54:00:f0:03:00', '52:54:00:f0:03:01'], masterUrl: 'http://10.97.1.1:8000', nameServer: '10.97.1.2' };

describe('lab scenarios', () => {
  it('retargets one disk\'s data at the third of four VM disks: the plan uses that disk and no other', () => {
    const disks = ['a', 'b', 'c', 'd'].map((x) => ({ sizeMiB: 4096, serial: `faulty-${x}` }));
    const data = retargetToVm(labScenario('single-disk').doc, disks, [2]);
    const plan = buildPlan(parseProvisionData(data), vmInventory(disks));
    expect(plan.parteds.map((d) => [d.name, d.matchedOn])).toEqual([['vdc', 'disk/by-id/virtio-faulty-c']]);
    expect(() => retargetToVm(labScenario('single-disk').doc, disks, [4])).toThrow(/no VM disk/);
  });

  it.each(LAB_SCENARIOS)('%s plans on its VM disks with the image on / and room for it', (name) => {
    const s = labScenario(name);
    const data = parseProvisionData(nodeData(s, node, imageDataFor(META, '/cache/debian.img.gz', 'http://10.97.1.3/targetimages')));
    const plan = buildPlan(data, vmInventory(s.disks));
    expect(planViolations(plan)).toEqual([]);
    expect(plan.images).toEqual([expect.objectContaining({ mount: '/', uri: 'http://10.97.1.3/targetimages/debian.img.gz', md5: 'c'.repeat(32), file: expect.objectContaining({ md5: 'a'.repeat(32) }) })]);
    const root = plan.lvs.find((l) => l.device === plan.images[0]?.targetDevice)?.size
      ?? plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === plan.images[0]?.targetDevice)?.size ?? 0;
    expect(root * 2 ** 20).toBeGreaterThan(META.raw_size);
    expect(plan.configdrive).toBeDefined();
    expect(plan.parteds.map((d) => d.matchedBy)).toEqual(plan.parteds.map(() => 'extra'));
  });

  it('points the node at the lab master with its own MACs, keys and Fuel puppet/mcollective settings', () => {
    const d = nodeData(labScenario('single-disk'), node, { uri: 'http://x/y.img.gz', format: 'ext4', container: 'gzip' });
    expect(d).toMatchObject({ uid: '3', hostname: 'node-3.domain.tld', name: 'node-3' });
    expect(d.interfaces.eth1.mac_address).toBe('52:54:00:f0:03:01');
    expect(d.kernel_options.udevrules).toBe('52:54:00:f0:03:00_eth0,52:54:00:f0:03:01_eth1');
    expect(d.ks_meta).toMatchObject({ master_ip: '10.97.1.1', mco_host: '10.97.1.1', mco_auto_setup: 1, puppet_auto_setup: 1, callback_url: 'http://10.97.1.1:8000/api/v1/nodes/{uid}/provisioned' });
    expect(d.ks_meta.authorized_keys).toEqual([labPublicKey('node-3')]);
    expect(Buffer.from(labPublicKey('node-3').split(' ')[1] as string, 'base64').subarray(4, 15).toString()).toBe('ssh-ed25519');
  });

  it('a lab node gets the master\'s SSH key and the broker as mco_host; the broker gets the data\'s mco account', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0Hp4hHl2rfdpYHcoJGI5goTSIJIVUW/NeaM24jdIHs fuel-forge-lab-master';
    const d = nodeData(labScenario('single-disk'), { ...node, publicKey: key, mcoHost: '10.97.1.4' }, { uri: 'http://x/y.img.gz', format: 'ext4', container: 'gzip' });
    expect(d.ks_meta.authorized_keys).toEqual([key]);
    expect(d.ks_meta).toMatchObject({ mco_host: '10.97.1.4', master_ip: '10.97.1.1' });
    const m = labMcoSettings();
    expect(d.ks_meta).toMatchObject({ mco_user: m.user, mco_password: m.password, mco_vhost: m.vhost, mco_pskey: m.pskey });
  });

  it.each(LAB_SCENARIOS)('%s: a lab node is given only the lab\'s addresses (DNS = dnsmasq, no mirror)', (name) => {
    const d = nodeData(labScenario(name), node, imageDataFor(META, '/cache/debian.img.gz', 'http://10.97.1.3/targetimages'));
    const strings: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') strings.push(v);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { strings.push(k); walk(x); }
    };
    walk(d);
    const ips = strings.flatMap((x) => x.match(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g) ?? []);
    expect(ips.length).toBeGreaterThan(0);
    expect(ips.filter((ip) => !ip.startsWith('10.97.1.'))).toEqual([]);
    const hosts = strings.flatMap((x) => [...x.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([^/:\s"]+)/gi)].map((m) => m[1] as string));
    expect(hosts.filter((h) => !h.startsWith('10.97.1.'))).toEqual([]);
    expect(JSON.parse(d.name_servers as string)).toBe('10.97.1.2');
    expect(JSON.parse(d.name_servers_search as string)).toBe('domain.tld');
    expect(d.ks_meta.repo_setup).toEqual({ repos: [] });
    // The serial port is the node's only console (VMs have no display): emergency shells show in the log.
    expect((d.ks_meta.pm_data.kernel_params as string).split(' ').filter((p) => p.startsWith('console='))).toEqual(['console=ttyS0,115200n8']);
  });

  it('scales the Fuel sample keeping its shape: /boot on the first disk (as fuel-agent lays it out), os and image VGs', () => {
    const s = fuelSampleScenario();
    const plan = buildPlan(parseProvisionData(nodeData(s, node, imageDataFor(META, '/i.img.gz', 'http://h'))), vmInventory(s.disks));
    expect(plan.mds).toEqual([]);
    expect(plan.fss.find((f) => f.mount === '/boot')!.device).toBe('/dev/vda3');
    expect(plan.vgs.map((v) => `${v.name}:${v.pvs.length}`).sort()).toEqual(['image:3', 'os:1']);
    expect(plan.lvs.map((l) => `${l.vg}/${l.name}`).sort()).toEqual(['image/glance', 'os/root', 'os/swap']);
    expect(s.disks.every((d) => d.sizeMiB < 16 * 1024)).toBe(true);
  });
});
