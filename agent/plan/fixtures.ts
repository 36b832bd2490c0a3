// Where the shared fixtures live and how they pair up: provision data with the
// inventory fuel-agent's own tests ran it against, and our small scenarios (disks
// of a few GiB, so they fit loop devices and lab VMs). Used by tests of every layer.
import { fileURLToPath } from 'node:url';
import { ForgeError, type ErrorCode } from '../core/errors.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory, InventoryDisk } from '../inventory/types.js';
import { loadProvisionData } from '../schema/load.js';
import type { ProvisionData } from '../schema/provision-data.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
export const NAILGUN_DIR = `${FIXTURES_DIR}fuel-nailgun/`;
export const SCENARIOS_DIR = `${FIXTURES_DIR}scenarios/`;

export interface FixturePair {
  name: string;
  input: string;
  inventory: string;
  /** 'plan' when a plan is expected, else the error code fuel-agent's tests expect. */
  expect: 'plan' | ErrorCode;
}

const INV = {
  sample: `${NAILGUN_DIR}list_block_devices_sample.json`,
  nvme: `${NAILGUN_DIR}list_block_devices_sample_nvme.json`,
  mpath: `${NAILGUN_DIR}list_block_devices_mpath.json`,
};

/** ks_spaces_variants.json, each materialised into simple_nailgun_driver.json under variants/. */
export const NAILGUN_VARIANTS: Record<string, { inventory: keyof typeof INV; expect: FixturePair['expect'] }> = {
  'fake-raid-disk': { inventory: 'sample', expect: 'plan' },
  'first-disk-huge': { inventory: 'sample', expect: 'plan' },
  'first-disk-nvme': { inventory: 'nvme', expect: 'plan' },
  'lvm-meta-pool': { inventory: 'sample', expect: 'plan' },
  'many-huge-disks': { inventory: 'sample', expect: 'plan' },
  'md-raid': { inventory: 'sample', expect: 'plan' },
  'mpath-disk': { inventory: 'mpath', expect: 'plan' },
  'no-boot': { inventory: 'sample', expect: 'plan' },
  // fuel-agent: "/boot partition has not been created" — only an NVMe disk offers it.
  'only-one-nvme': { inventory: 'nvme', expect: 'PLAN_INVALID' },
  'only-rootfs-image': { inventory: 'nvme', expect: 'plan' },
  'second-disk-os': { inventory: 'sample', expect: 'plan' },
  'single-disk': { inventory: 'sample', expect: 'plan' },
  // fuel-agent plans it together with single_disk (as variants/single-nvme-disk.json does);
  // its 707237 MiB PV is bigger than the 476940 MiB disk in the inventory.
  'single-nvme-disk': { inventory: 'nvme', expect: 'SIZE_DOES_NOT_FIT' },
};

// ceph-osd and swift-storage: Nailgun's storage-node volumes (file_system "none",
// mount "none" with a filesystem, cephjournal split per OSD) on VM-sized disks.
export const SCENARIOS = ['single-disk', 'two-disks-raid-lvm', 'nvme-sata', 'keep-data', 'esp-single-disk', 'ceph-osd', 'swift-storage'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export function scenarioPaths(name: ScenarioName): { input: string; inventory: string } {
  return { input: `${SCENARIOS_DIR}${name}.json`, inventory: `${SCENARIOS_DIR}${name}.inventory.json` };
}

export const FIXTURE_PAIRS: FixturePair[] = [
  { name: 'provision_sample', input: `${NAILGUN_DIR}provision_sample.json`, inventory: INV.sample, expect: 'plan' },
  // simple_nailgun_driver.json ships with empty ks_spaces: nothing mounts `/`.
  { name: 'simple_nailgun_driver', input: `${NAILGUN_DIR}simple_nailgun_driver.json`, inventory: INV.sample, expect: 'PLAN_INVALID' },
  ...Object.entries(NAILGUN_VARIANTS).map(([name, v]) => ({
    name: `variant ${name}`,
    input: `${NAILGUN_DIR}variants/${name}.json`,
    inventory: INV[v.inventory],
    expect: v.expect,
  })),
  ...SCENARIOS.map((name) => ({ name: `scenario ${name}`, ...scenarioPaths(name), expect: 'plan' as const })),
];

export async function loadScenario(name: ScenarioName): Promise<{ data: ProvisionData; inventory: Inventory }> {
  const p = scenarioPaths(name);
  return { data: await loadProvisionData(p.input), inventory: await loadInventory(p.inventory) };
}

export interface RetargetDevice {
  /** e.g. /dev/loop3 */
  path: string;
  /** Bytes; defaults to the scenario disk's size. */
  size?: number;
  logicalSectorSize?: 512 | 4096;
}

/**
 * Point a scenario at other devices (loop devices, a VM's disks): the n-th ks_spaces
 * disk becomes devices[n], matched by name, and the inventory is rebuilt to match.
 */
export function retargetScenario(
  data: ProvisionData,
  inventory: Inventory,
  devices: readonly RetargetDevice[],
): { data: ProvisionData; inventory: Inventory } {
  const copy = structuredClone(data);
  const disks: InventoryDisk[] = [];
  let n = 0;
  for (const space of copy.ks_meta.pm_data.ks_spaces) {
    if (space.type !== 'disk') continue;
    const dev = devices[n];
    const old = inventory.disks[n];
    n++;
    if (!dev) {
      throw new ForgeError('DISK_NOT_FOUND', `retargetScenario: no device for ks_spaces disk ${space.name}`, { field: 'ks_meta.pm_data.ks_spaces' });
    }
    const name = dev.path.replace(/^\/dev\//, '');
    space.name = name;
    space.id = name;
    space.extra = [];
    const lss = dev.logicalSectorSize ?? old?.logicalSectorSize ?? 512;
    disks.push({
      name,
      path: dev.path,
      size: dev.size ?? old?.size ?? space.size * 1024 * 1024,
      logicalSectorSize: lss,
      physicalSectorSize: lss,
      rotational: false,
      removable: false,
      readOnly: false,
      type: name.startsWith('loop') ? 'loop' : 'disk',
      links: [],
    });
  }
  return { data: copy, inventory: { version: 1, disks } };
}
