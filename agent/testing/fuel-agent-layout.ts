// A node as fuel-agent left it, rebuilt from one of its recorded schemes
// (fixtures/fuel-agent-plans/<case>/fuel-agent.json, format in its README): the
// same GPT (parted's `mkpart primary` [begin MiB, end MiB): named "primary", type
// Linux data, EF02 for bios_grub, the data's partition_guid as the type), PVs with
// fuel-agent's --metadatasize and --metadatacopies, VGs, LVs and filesystems.
// Pure argv builders: loop tests run them through the runner, VM tests send them
// to the guest as tasks. Used to prove a fuel-agent node can be re-provisioned
// with keep_data (agent/partition/fuel-agent-keep*.test.ts).
import { readFileSync } from 'node:fs';
import { parseInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { partitionDevice } from '../plan/names.js';
import type { Plan } from '../plan/types.js';
import { TYPE_GUID } from '../plan/type-guid.js';
import type { FuelPartition, FuelScheme } from './fuel-agent-shape.js';

export const FUEL_PLANS_DIR = new URL('../../fixtures/fuel-agent-plans/', import.meta.url).pathname;
const MiB = 1024 * 1024;

/** Nailgun data as JSON (edited by tests before parsing), fuel-agent's inventory and scheme. */
export interface FuelCase {
  name: string;
  /** provision.json as read: tests edit it (keep_data), then parse it with the schema. */
  raw: any;
  inventory: Inventory;
  scheme: FuelScheme;
}

export function loadFuelCase(name: string): FuelCase {
  const read = (f: string): unknown => JSON.parse(readFileSync(`${FUEL_PLANS_DIR}${name}/${f}`, 'utf8'));
  const scheme = read('fuel-agent.json') as FuelScheme | { error: string };
  if ('error' in scheme) throw new Error(`${name}: fuel-agent refused this case: ${scheme.error}`);
  return { name, raw: read('provision.json'), inventory: parseInventory(read('inventory.json')), scheme };
}

/** Where a disk of the scheme really is (a loop device, a VM disk). */
export interface FuelTarget {
  device: string;
  logicalSectorSize: number;
}

/** First and last (inclusive) sector of a fuel-agent partition: parted `mkpart begin end` in MiB. */
export function fuelSectors(p: Pick<FuelPartition, 'begin' | 'end'>, logicalSectorSize: number): { first: number; last: number } {
  const perMiB = MiB / logicalSectorSize;
  return { first: p.begin * perMiB, last: p.end * perMiB - 1 };
}

/** Maps the scheme's device names (/dev/sda, /dev/nvme0n1p3) to the targets'; LVs stay as they are. */
export function fuelDeviceMap(scheme: FuelScheme, targets: Readonly<Record<string, FuelTarget>>): (path: string) => string {
  const map = new Map<string, string>();
  for (const d of scheme.parteds) {
    const t = targets[d.device];
    if (!t) throw new Error(`no target for ${d.device}`);
    map.set(d.device, t.device);
    for (const p of d.partitions) map.set(p.device, partitionDevice(t.device, p.num));
  }
  return (path) => map.get(path) ?? path;
}

function typeOf(p: FuelPartition): string {
  if (p.guid) return p.guid.toUpperCase();
  return p.flags.includes('bios_grub') ? TYPE_GUID.biosBoot : TYPE_GUID.linuxFs;
}

export interface FuelLayoutArgv {
  /** One sgdisk call per disk. */
  tables: string[][];
  /** pvcreate, vgcreate, lvcreate, in that order. */
  lvm: string[][];
  /** mkfs/mkswap for every filesystem of the scheme (lazy ext4 init: loop and VM disks are sparse). */
  mkfs: string[][];
}

export function fuelLayoutArgv(scheme: FuelScheme, targets: Readonly<Record<string, FuelTarget>>): FuelLayoutArgv {
  if (scheme.mds.length) throw new Error('fuelLayoutArgv: MD arrays are not laid out here');
  const dev = fuelDeviceMap(scheme, targets);
  const tables = scheme.parteds.map((d) => {
    const t = targets[d.device]!;
    const argv = ['sgdisk', '--set-alignment=1', '--clear'];
    for (const p of d.partitions) {
      const s = fuelSectors(p, t.logicalSectorSize);
      argv.push(`--new=${p.num}:${s.first}:${s.last}`, `--typecode=${p.num}:${typeOf(p)}`, `--change-name=${p.num}:primary`);
    }
    argv.push(t.device);
    return argv;
  });
  const lvm = [
    ...scheme.pvs.map((pv) => ['pvcreate', '-ff', '-y', '--metadatasize', `${pv.metadatasize}m`, '--metadatacopies', String(pv.metadatacopies), dev(pv.device)]),
    ...scheme.vgs.map((vg) => ['vgcreate', '-y', vg.name, ...vg.pvs.map(dev)]),
    ...scheme.lvs.map((lv) => ['lvcreate', '-y', '-Wy', '-Zy', '-L', `${lv.size}m`, '-n', lv.name, lv.vg]),
  ];
  const mkfs = scheme.fss.map((fs) => {
    const label = fs.label ? ['-L', fs.label] : [];
    const d = dev(fs.device);
    switch (fs.type) {
      case 'ext2':
      case 'ext3':
      case 'ext4':
        return [`mkfs.${fs.type}`, '-F', '-q', '-E', 'lazy_itable_init=1,lazy_journal_init=1', ...label, d];
      case 'xfs':
        return ['mkfs.xfs', '-f', '-q', ...label, d];
      case 'vfat':
        return ['mkfs.vfat', ...(fs.label ? ['-n', fs.label] : []), d];
      case 'swap':
        return ['mkswap', '-f', ...label, d];
      default:
        throw new Error(`fuelLayoutArgv: filesystem type ${fs.type} on ${fs.device}`);
    }
  });
  return { tables, lvm, mkfs };
}

/** A volume to mark keep_data: a disk's volume by mount point, or an LV by VG and name. */
export type KeepPick = { disk: string; mount: string } | { vg: string; lv: string };

/** Sets keep_data on the picked volumes of the raw Nailgun data; each pick must match exactly one volume. */
export function markKeepData(raw: FuelCase['raw'], picks: readonly KeepPick[]): void {
  for (const pick of picks) {
    const hits: { keep_data?: boolean }[] = [];
    for (const s of raw.ks_meta.pm_data.ks_spaces as { type: string; name?: string; id: string; volumes: { mount?: string; name?: string; type: string; keep_data?: boolean }[] }[]) {
      for (const v of s.volumes) {
        if ('disk' in pick ? s.type === 'disk' && s.name === pick.disk && v.mount === pick.mount && v.type !== 'boot' : s.type === 'vg' && s.id === pick.vg && v.name === pick.lv) hits.push(v);
      }
    }
    if (hits.length !== 1) throw new Error(`markKeepData: ${JSON.stringify(pick)} matches ${hits.length} volumes`);
    hits[0]!.keep_data = true;
  }
}

/**
 * The case's inventory with each laid-out disk pointing at its target: same name,
 * links and size (so the Nailgun data matches it exactly as it matched the real
 * disk, NVMe-ness included), another device node. Disks the scheme leaves alone
 * are dropped, so nothing can resolve to a device of this machine.
 */
export function retargetInventory(c: FuelCase, targets: Readonly<Record<string, FuelTarget & { size?: number }>>): Inventory {
  const disks = c.scheme.parteds.map((d) => {
    const inv = c.inventory.disks.find((x) => x.path === d.device);
    const t = targets[d.device];
    if (!inv || !t) throw new Error(`retargetInventory: ${d.device} is not in the inventory or has no target`);
    return { ...inv, path: t.device, size: t.size ?? inv.size, logicalSectorSize: t.logicalSectorSize };
  });
  return { ...c.inventory, disks };
}

/** Size in bytes and logical sector size fuel-agent saw for each disk it laid out. */
export function fuelDiskGeometry(c: FuelCase): { device: string; size: number; logicalSectorSize: 512 | 4096 }[] {
  return c.scheme.parteds.map((d) => {
    const inv = c.inventory.disks.find((x) => x.path === d.device);
    if (!inv) throw new Error(`${c.name}: ${d.device} is not in the inventory`);
    if (inv.logicalSectorSize !== 512 && inv.logicalSectorSize !== 4096) throw new Error(`${d.device}: sector size ${inv.logicalSectorSize}`);
    return { device: d.device, size: inv.size, logicalSectorSize: inv.logicalSectorSize };
  });
}

/** A plan with its devices renamed back through `rename` (to compare plans made for different targets). */
export function renameDevices(plan: Plan, rename: (path: string) => string): Plan {
  const json = JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'string' && v.startsWith('/dev/') ? rename(v) : v));
  return JSON.parse(json) as Plan;
}

/** `sgdisk -i N` — sgdisk's own reading of one entry, an oracle independent of sfdisk (which the agent uses). */
export function sgdiskInfoArgv(disk: string, num: number): string[] {
  return ['sgdisk', '-i', String(num), disk];
}

export interface SgdiskInfo {
  typeGuid: string;
  uniqueGuid: string;
  first: number;
  last: number;
  name: string;
}

export function parseSgdiskInfo(stdout: string): SgdiskInfo {
  const field = (re: RegExp): string => {
    const m = re.exec(stdout);
    if (!m?.[1]) throw new Error(`sgdisk -i: no ${re.source} in:\n${stdout}`);
    return m[1];
  };
  return {
    typeGuid: field(/^Partition GUID code: (\S+)/m).toUpperCase(),
    uniqueGuid: field(/^Partition unique GUID: (\S+)/m).toUpperCase(),
    first: Number(field(/^First sector: (\d+)/m)),
    last: Number(field(/^Last sector: (\d+)/m)),
    name: /^Partition name: '(.*)'$/m.exec(stdout)?.[1] ?? '',
  };
}
