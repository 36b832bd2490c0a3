// Lab scenarios: provisioning data in Nailgun's provision serializer format,
// derived from the shared Fuel sample and scaled to VM disk sizes, with the
// image URIs and call-back pointing at the lab's mock master.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VmDiskSpec } from './vm/qemu.js';

export const FUEL_SAMPLE = join(import.meta.dirname, '..', 'fixtures', 'fuel-nailgun', 'provision_sample.json');

export interface ImageRef {
  uri: string;
  format: string;
  container: string;
  md5?: string;
  sha256?: string;
  size?: number;
}

export interface Scenario {
  name: string;
  disks: VmDiskSpec[];
  /** ks_meta.pm_data.ks_spaces for the VM's disks. */
  ksSpaces: unknown[];
}

/** One 4 GiB virtio disk: bios_grub/boot, /boot, LVM "os" VG with root and swap (Fuel's default shape). */
export const singleDisk: Scenario = {
  name: 'single-disk',
  disks: [{ sizeMiB: 4096 }],
  ksSpaces: [
    {
      type: 'disk', id: 'vda', name: 'vda', size: 4096, extra: [],
      volumes: [
        { type: 'boot', size: 300 },
        { type: 'partition', mount: '/boot', file_system: 'ext2', name: 'Boot', size: 200 },
        { type: 'lvm_meta_pool', size: 0 },
        { type: 'pv', vg: 'os', size: 3400, lvm_meta_size: 64 },
      ],
    },
    {
      type: 'vg', id: 'os', label: 'Base System', min_size: 2300, _allocate_size: 'min',
      volumes: [
        { type: 'lv', name: 'root', mount: '/', file_system: 'ext4', size: 2816 },
        { type: 'lv', name: 'swap', mount: 'swap', file_system: 'swap', size: 256 },
      ],
    },
  ],
};

export interface ProvisionDataInput {
  uid: string;
  hostname: string;
  macs: string[];
  /** URL of the master as the node sees it, e.g. http://10.0.2.2:PORT. */
  masterUrl: string;
  image: ImageRef;
  scenario: Scenario;
  authorizedKeys?: string[];
}

export function provisionData(i: ProvisionDataInput): Record<string, unknown> {
  const doc = JSON.parse(readFileSync(FUEL_SAMPLE, 'utf8')) as Record<string, unknown> & { ks_meta: Record<string, unknown> };
  const master = new URL(i.masterUrl);
  const name = i.hostname.split('.')[0] ?? i.hostname;
  doc['uid'] = i.uid;
  doc['hostname'] = i.hostname;
  doc['name'] = name;
  doc['slave_name'] = name;
  doc['profile'] = 'bootstrap';
  doc['interfaces'] = Object.fromEntries(i.macs.map((m, k) => [`eth${k}`, { mac_address: m, static: '0', ...(k === 0 ? { dns_name: i.hostname } : {}) }]));
  doc['interfaces_extra'] = Object.fromEntries(i.macs.map((_, k) => [`eth${k}`, { onboot: k === 0 ? 'yes' : 'no', peerdns: 'no' }]));
  const ks = doc.ks_meta;
  ks['master_ip'] = master.hostname;
  ks['callback_url'] = `${i.masterUrl}/api/v1/nodes/{uid}/provisioned`;
  ks['image_data'] = { '/': { ...i.image } };
  ks['pm_data'] = { ...(ks['pm_data'] as Record<string, unknown>), ks_spaces: i.scenario.ksSpaces };
  if (i.authorizedKeys) ks['authorized_keys'] = i.authorizedKeys;
  return doc;
}

/**
 * The configdrive templates, to upload onto a node whose ramdisk lacks them (the
 * ramdisk built at the time of writing did not install them; the agent looks in
 * /usr/share/fuel-forge/configdrive/templates).
 */
export function configdriveTemplateUploads(repoRoot = join(import.meta.dirname, '..')): Record<string, string> {
  const dir = join(repoRoot, 'agent', 'configdrive', 'templates');
  return Object.fromEntries(readdirSync(dir).map((f) => [`/usr/share/fuel-forge/configdrive/templates/${f}`, readFileSync(join(dir, f), 'utf8')]));
}
