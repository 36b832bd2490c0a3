// fast-check arbitraries of valid (provision data, inventory) pairs: 1–8 disks of
// SATA/NVMe/fake-RAID (md) names, 512 or 4096-byte sectors, sizes from a few GiB
// (loop devices) to 16 TiB, /boot plain or RAID1, an optional ESP, / on a partition
// or on LVM spread across disks, keep_data here and there. Every generated pair
// must plan; `expect` says what the plan must show.
import fc from 'fast-check';
import type { Inventory, InventoryDisk } from '../agent/inventory/types.js';

const MiB = 1024 * 1024;

export type Sizing = 'full' | 'vm' | 'loop';

export interface GenOptions {
  /** full: 1 GiB–16 TiB; vm: 4–32 GiB (lab VM disks); loop: 1–4 GiB (loop devices). Default full. */
  sizing?: Sizing;
  /** Overrides the sizing's bounds, in MiB. */
  minDiskMiB?: number;
  maxDiskMiB?: number;
  minDisks?: number;
  /** At most 8. */
  maxDisks?: number;
  /** Only these logical sector sizes (default both). */
  sectorSizes?: readonly (512 | 4096)[];
  /** Allow NVMe and md disk names (default true). */
  exoticNames?: boolean;
  /** Only these disk kinds (overrides exoticNames): a VM has no fake-RAID md disks. */
  kinds?: readonly Kind[];
}

export interface GenExpect {
  /** Devices planned, in ks_spaces order. */
  devices: string[];
  nvme: string[];
  withBoot: boolean;
  bootRaid: boolean;
  withEsp: boolean;
  rootOn: 'partition' | 'lvm';
  /** Mount points marked keep_data. */
  kept: string[];
}

export interface GeneratedCase {
  /** Plain JSON, as Nailgun would send it. */
  data: Record<string, any>;
  inventory: Inventory;
  expect: GenExpect;
}

const SIZING: Record<Sizing, [number, number]> = {
  full: [1024, 16 * 1024 * 1024],
  vm: [4096, 32 * 1024],
  loop: [1024, 4096],
};

export type Kind = 'sata' | 'nvme' | 'md';

export interface DiskSpec {
  kind: Kind;
  sizeMiB: number;
  extraBytes: number;
  lss: 512 | 4096;
  matchBy: 'extra' | 'id' | 'name';
}

interface Layout {
  disks: DiskSpec[];
  withBoot: boolean;
  bootRaid: boolean;
  withEsp: boolean;
  rootOn: 'partition' | 'lvm';
  fill: number;
  weights: number[];
  lvSplit: number;
  swap: boolean;
  keepRoot: boolean;
  keepData: boolean;
  metaSize: number;
  zeroVolumes: boolean;
}

function names(disks: readonly DiskSpec[]): string[] {
  const count: Record<Kind, number> = { sata: 0, nvme: 0, md: 0 };
  return disks.map((d) => {
    const n = count[d.kind]++;
    if (d.kind === 'nvme') return `nvme${n}n1`;
    if (d.kind === 'md') return `md${126 - n}`;
    return `sd${String.fromCharCode(97 + n)}`;
  });
}

/** Spread `total` MiB over volumes with minimum sizes and weights. */
function spread(total: number, mins: number[], weights: number[]): number[] {
  const rem = Math.max(0, total - mins.reduce((a, b) => a + b, 0));
  const wsum = weights.reduce((a, b) => a + b, 0) || 1;
  return mins.map((m, i) => m + Math.floor((rem * (weights[i] ?? 1)) / wsum));
}

function build(l: Layout): GeneratedCase {
  const diskNames = names(l.disks);
  const nvme = diskNames.filter((n) => n.startsWith('nvme'));
  // When only NVMe disks offer /boot, BIOS cannot boot it: the layout brings an ESP.
  const offering = l.bootRaid ? diskNames : diskNames.slice(0, 1);
  const withEsp = l.withEsp || (l.withBoot && offering.every((n) => n.startsWith('nvme')));
  const kept: string[] = [];
  const spaces: any[] = [];
  const inventory: InventoryDisk[] = [];
  const osPvs: { disk: number; vol: any }[] = [];
  let w = 0;
  const weight = () => l.weights[w++ % l.weights.length] ?? 1;

  l.disks.forEach((d, i) => {
    const name = diskNames[i]!;
    const byId = `disk/by-id/forge-${name}-serial${i}`;
    const byPath = `disk/by-path/pci-0000:00:${(i + 4).toString(16).padStart(2, '0')}.0`;
    const isRootDisk = i === 0;
    const vols: { vol: any; min: number; w: number }[] = [];
    vols.push({ vol: { type: 'boot', size: 300 }, min: 0, w: 0 });
    if (isRootDisk && withEsp) vols.push({ vol: { type: 'partition', name: 'EFI', mount: '/boot/efi', file_system: 'vfat' }, min: 32, w: 0.2 });
    const offersBoot = l.withBoot && (l.bootRaid || i === 0);
    if (offersBoot) {
      vols.push({ vol: { type: l.bootRaid ? 'raid' : 'partition', name: 'Boot', mount: '/boot', file_system: 'ext2' }, min: 32, w: 0.3 });
    }
    if (l.zeroVolumes) vols.push({ vol: { type: 'lvm_meta_pool', size: 0 }, min: 0, w: 0 });
    if (l.rootOn === 'partition') {
      if (isRootDisk) {
        const root = { type: 'partition', name: 'Root', mount: '/', file_system: 'ext4', ...(l.keepRoot ? { keep_data: true } : {}) };
        if (l.keepRoot) kept.push('/');
        vols.push({ vol: root, min: 64, w: weight() });
        if (l.swap) vols.push({ vol: { type: 'partition', name: 'Swap', mount: 'swap', file_system: 'swap' }, min: 8, w: weight() / 4 });
      } else {
        const mount = `/srv/disk${i}`;
        vols.push({ vol: { type: 'partition', mount, file_system: i % 2 ? 'xfs' : 'ext4', ...(l.keepData ? { keep_data: true } : {}) }, min: 16, w: weight() });
        if (l.keepData) kept.push(mount);
      }
    } else {
      const pv = { type: 'pv', vg: 'os', lvm_meta_size: l.metaSize };
      vols.push({ vol: pv, min: l.metaSize + 16, w: weight() });
      osPvs.push({ disk: i, vol: pv });
      if (!isRootDisk && l.zeroVolumes) vols.push({ vol: { type: 'pv', vg: 'image', lvm_meta_size: 0, size: 0 }, min: 0, w: 0 });
    }
    // usable = disk - first MiB - GPT tail - bios_grub - the 200 MiB UEFI partition - the configdrive on
    // the root disk, and fuel-agent's 1 MiB gap before every partition after the first.
    const parts = vols.filter((v) => v.vol.type !== 'boot' && v.vol.type !== 'lvm_meta_pool' && v.vol.size !== 0).length;
    const usable = Math.floor((d.sizeMiB - 2 - 24 - 1 - 200 - parts - (isRootDisk ? 21 : 0)) * l.fill);
    const sizes = spread(usable, vols.map((v) => v.min), vols.map((v) => v.w));
    vols.forEach((v, k) => {
      if (v.vol.size === undefined) v.vol.size = sizes[k];
    });
    const ks: any = { type: 'disk', id: d.matchBy === 'id' ? byPath : name, name, size: d.sizeMiB, volumes: vols.map((v) => v.vol) };
    if (d.matchBy === 'extra') ks.extra = [byId];
    spaces.push(ks);
    inventory.push({
      name,
      path: `/dev/${name}`,
      size: d.sizeMiB * MiB + Math.floor(d.extraBytes / d.lss) * d.lss,
      logicalSectorSize: d.lss,
      physicalSectorSize: d.lss,
      rotational: d.kind === 'sata',
      removable: false,
      readOnly: false,
      type: d.kind === 'md' ? 'raid1' : 'disk',
      links: [byId, byPath],
    });
  });

  if (l.rootOn === 'lvm') {
    const capacity = osPvs.reduce((s, p) => s + p.vol.size - l.metaSize, 0);
    const root = Math.max(1, Math.floor(capacity * l.lvSplit));
    const lvs: any[] = [{ type: 'lv', name: 'root', mount: '/', file_system: 'ext4', size: root, ...(l.keepRoot ? { keep_data: true } : {}) }];
    if (l.keepRoot) kept.push('/');
    if (l.swap && capacity - root >= 1) lvs.push({ type: 'lv', name: 'swap-lv', mount: 'swap', file_system: 'swap', size: Math.max(1, Math.floor((capacity - root) / 2)) });
    if (l.zeroVolumes) lvs.push({ type: 'lv', name: 'unused', mount: '/unused', file_system: 'xfs', size: 0 });
    spaces.push({ type: 'vg', id: 'os', label: 'Base System', volumes: lvs });
    if (l.zeroVolumes) spaces.push({ type: 'vg', id: 'image', volumes: [{ type: 'lv', name: 'glance', mount: '/var/lib/glance', size: 0 }] });
  }

  const data = {
    hostname: 'node-1.forge.test',
    profile: 'debian_12-x86_64',
    interfaces: { eth0: { mac_address: '52:54:00:12:34:56', ip_address: '10.20.0.3', netmask: '255.255.255.0' } },
    kernel_options: { 'netcfg/choose_interface': '52:54:00:12:34:56' },
    ks_meta: {
      // A raid /boot on several disks is RAID1 only when asked (fuel-agent makes one plain partition).
      pm_data: { kernel_params: 'console=ttyS0', ks_spaces: spaces, ...(l.bootRaid ? { raid_boot: true } : {}) },
      image_data: { '/': { uri: 'http://10.20.0.2:8080/debian.img.gz', format: 'ext4', container: 'gzip' } },
      authorized_keys: [],
      master_ip: '10.20.0.2',
    },
  };
  return {
    data,
    inventory: { version: 1, disks: inventory },
    expect: {
      devices: diskNames.map((n) => `/dev/${n}`),
      nvme: nvme.map((n) => `/dev/${n}`),
      withBoot: l.withBoot,
      bootRaid: l.bootRaid,
      withEsp,
      rootOn: l.rootOn,
      kept,
    },
  };
}

export function diskSpecArb(opts: GenOptions = {}): fc.Arbitrary<DiskSpec> {
  const [lo, hi] = SIZING[opts.sizing ?? 'full'];
  const min = opts.minDiskMiB ?? lo;
  const max = Math.max(min, opts.maxDiskMiB ?? hi);
  const kinds: readonly Kind[] = opts.kinds ?? (opts.exoticNames === false ? ['sata'] : ['sata', 'nvme', 'md']);
  return fc.record({
    kind: fc.constantFrom(...kinds),
    // Bias towards both ends of the range: tiny disks find fit bugs, huge ones overflow bugs.
    sizeMiB: fc.oneof(fc.integer({ min, max: Math.min(max, min + 512) }), fc.integer({ min, max })),
    extraBytes: fc.integer({ min: 0, max: MiB - 1 }),
    lss: fc.constantFrom(...(opts.sectorSizes ?? [512, 4096] as const)),
    matchBy: fc.constantFrom('extra' as const, 'id' as const, 'name' as const),
  });
}

/** Valid (provision data, inventory) pairs: every one must plan. */
export function validCaseArb(opts: GenOptions = {}): fc.Arbitrary<GeneratedCase> {
  const maxDisks = Math.min(8, opts.maxDisks ?? 8);
  const minDisks = Math.max(1, Math.min(maxDisks, opts.minDisks ?? 1));
  return fc
    .record({
      disks: fc.array(diskSpecArb(opts), { minLength: minDisks, maxLength: maxDisks }),
      withBoot: fc.boolean(),
      bootRaid: fc.boolean(),
      withEsp: fc.boolean(),
      rootOn: fc.constantFrom('partition' as const, 'lvm' as const),
      fill: fc.double({ min: 0.3, max: 1, noNaN: true }),
      weights: fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 }),
      lvSplit: fc.double({ min: 0.05, max: 1, noNaN: true }),
      swap: fc.boolean(),
      keepRoot: fc.boolean(),
      keepData: fc.boolean(),
      metaSize: fc.constantFrom(16, 64, 128),
      zeroVolumes: fc.boolean(),
    })
    .map(build);
}

/** Loop-device-sized layouts (1–4 GiB disks, at most 4 of them) for system tests. */
export const loopCaseArb = (opts: Omit<GenOptions, 'sizing'> = {}) => validCaseArb({ maxDisks: 4, ...opts, sizing: 'loop' });
/** Lab-VM-sized layouts (4–32 GiB disks, at most 4). */
export const vmCaseArb = (opts: Omit<GenOptions, 'sizing'> = {}) => validCaseArb({ maxDisks: 4, ...opts, sizing: 'vm' });

// ---- invalid mutations --------------------------------------------------------

export type MutationKind = 'drop-required' | 'negative-size' | 'wrong-type' | 'unknown-disk' | 'oversize-volume';

export interface Mutation {
  kind: MutationKind;
  /** The JSON path the error must name. */
  field: string;
  /** Error code the mutation must produce. */
  code: 'CONFIG_INVALID' | 'DISK_NOT_FOUND' | 'SIZE_DOES_NOT_FIT';
  data: Record<string, any>;
}

const SP = 'ks_meta.pm_data.ks_spaces';

/** Applies one invalid change to a valid case, picked by the seeds. */
export function mutate(c: GeneratedCase, kind: MutationKind, pick: number): Mutation {
  const data = structuredClone(c.data);
  const spaces: any[] = data.ks_meta.pm_data.ks_spaces;
  const diskIdx = spaces.map((s, i) => (s.type === 'disk' ? i : -1)).filter((i) => i >= 0);
  const i = diskIdx[pick % diskIdx.length]!;
  const disk = spaces[i];
  // Volumes that really get a partition on this disk (not boot leftovers, not size 0).
  const real = disk.volumes
    .map((v: any, j: number) => ({ v, j }))
    .filter(({ v }: any) => v.size > 0 && v.type !== 'boot' && v.type !== 'lvm_meta_pool' && v.mount !== '/boot' && v.mount !== '/boot/efi');
  const { j } = real[pick % real.length] ?? { j: 0 };
  switch (kind) {
    case 'drop-required': {
      const choices: [any, string, string][] = [
        [disk, 'size', `${SP}[${i}].size`],
        [disk, 'name', `${SP}[${i}].name`],
        [disk, 'volumes', `${SP}[${i}].volumes`],
        [disk.volumes[j], 'type', `${SP}[${i}].volumes[${j}].type`],
        [disk.volumes[j], 'size', `${SP}[${i}].volumes[${j}].size`],
        [data.ks_meta.image_data['/'], 'uri', 'ks_meta.image_data["/"].uri'],
        [data.ks_meta, 'pm_data', 'ks_meta.pm_data'],
      ];
      const [obj, key, field] = choices[pick % choices.length]!;
      delete obj[key];
      return { kind, field, code: 'CONFIG_INVALID', data };
    }
    case 'negative-size':
      disk.volumes[j].size = -1 - (pick % 1000);
      return { kind, field: `${SP}[${i}].volumes[${j}].size`, code: 'CONFIG_INVALID', data };
    case 'wrong-type': {
      const choices: [any, string, unknown, string][] = [
        [disk.volumes[j], 'size', String(disk.volumes[j].size), `${SP}[${i}].volumes[${j}].size`],
        [disk, 'name', 42, `${SP}[${i}].name`],
        [disk, 'volumes', {}, `${SP}[${i}].volumes`],
        [data.ks_meta.pm_data, 'ks_spaces', 'all', `${SP}`],
        [data.ks_meta.image_data['/'], 'format', 'ntfs', 'ks_meta.image_data["/"].format'],
      ];
      const [obj, key, value, field] = choices[pick % choices.length]!;
      obj[key] = value;
      return { kind, field, code: 'CONFIG_INVALID', data };
    }
    case 'unknown-disk':
      disk.name = `sdz${pick % 100}`;
      disk.id = disk.name;
      disk.extra = ['disk/by-id/no-such-disk'];
      return { kind, field: `${SP}[${i}]`, code: 'DISK_NOT_FOUND', data };
    case 'oversize-volume': {
      const inv = c.inventory.disks.find((d) => d.name === c.data.ks_meta.pm_data.ks_spaces[i].name)!;
      disk.volumes[j].size = Math.floor(inv.size / MiB) + 1 + (pick % 1000);
      return { kind, field: `${SP}[${i}].volumes[${j}].size`, code: 'SIZE_DOES_NOT_FIT', data };
    }
  }
}

export const mutationKindArb = fc.constantFrom<MutationKind>('drop-required', 'negative-size', 'wrong-type', 'unknown-disk', 'oversize-volume');
