// (provision data, inventory) → Plan. Pure: no I/O, no clock, same input → same
// plan. fuel-agent's Nailgun driver is the reference, down to the geometry: a
// node fuel-agent provisioned has its kept partitions exactly where we would put
// them, so it can be re-provisioned with keep_data. Where we differ it is said
// below and in the README ("Differences from fuel-agent"); the differential test
// (agent/plan/fuel-agent.test.ts) holds us to it. Sizes are MiB; every partition
// starts and ends on a MiB boundary, aligned for 512 and 4096-byte sectors.
import { ForgeError, ForgeErrors, type ErrorCode } from '../core/errors.js';
import type { Inventory } from '../inventory/types.js';
import { formatPath } from '../schema/json-path.js';
import { labelFor } from '../schema/values.js';
import type { DiskVolume, KsDisk, KsVg, ProvisionData } from '../schema/provision-data.js';
import { cephJournalSplitter, CEPH_JOURNAL_NAME } from './ceph.js';
import { GUID, isGuid } from './guids.js';
import { planImages } from './images.js';
import { propagateKeepData } from './keep-data.js';
import { matchDisk, type DiskMatch } from './match.js';
import { gptName, isNvme, lvDevice, mdDevice, partitionDevice } from './names.js';
import {
  PLAN_VERSION,
  type FsType,
  type PlannedDisk,
  type PlannedFs,
  type PlannedLv,
  type PlannedMd,
  type PlannedPartition,
  type PlannedPv,
  type PlannedVg,
  type Plan,
  type PlanWarning,
} from './types.js';

const MiB = 1024 * 1024;
/** Fuel's legacy-BIOS GRUB core partition. */
export const BIOS_GRUB_SIZE = 24;
/**
 * fuel-agent's second partition on every disk, 'UEFI (for future use)'. Unformatted
 * on BIOS nodes; on a UEFI node without an ESP volume it is the ESP.
 */
export const UEFI_RESERVE_SIZE = 200;
/** The role of an ESP on another boot disk, mirroring the mounted one. */
export const ESP_MIRROR_ROLE = 'esp-mirror';
/** fuel-agent starts each partition 1 MiB after the previous one ends. */
export const PARTITION_GAP = 1;
/** Right after the last partition of the disk holding `/` (cloud-init finds it by label). */
export const CONFIGDRIVE_SIZE = 20;
/** fuel-agent (and XFS) cut filesystem labels to 12 characters; FAT allows 11. */
const LABEL_MAX = 12;
const VFAT_LABEL_MAX = 11;
/** Kept free at the end of every disk for the backup GPT (33 sectors at 512, 6 at 4096). */
export const GPT_TAIL = 1;
export const FIRST_PARTITION_BEGIN = 1;
export const DEFAULT_LVM_META_SIZE = 64;
const MIN_LVM_META_SIZE = 10;

const SPACES = ['ks_meta', 'pm_data', 'ks_spaces'] as const;
const spacePath = (...rest: (string | number)[]) => formatPath([...SPACES, ...rest]);

interface DiskEntry {
  index: number;
  ks: KsDisk;
}
interface ActiveDisk extends DiskEntry {
  match: DiskMatch;
}
interface FsSource {
  fs: PlannedFs;
  field: string;
}
interface RaidMember {
  part: PlannedPartition;
  vol: DiskVolume;
  field: string;
}

/** Collects independent problems so the user sees all of them at once. */
class Problems {
  readonly list: ForgeError[] = [];
  readonly warnings: PlanWarning[] = [];
  /**
   * A volume's partition_guid, when it is a GUID. Anything else (fuel-agent's own
   * sample says "fake_guid") would reach sgdisk as garbage: it is dropped with a
   * warning, and the partition type follows the partition's role.
   */
  guidOf(v: DiskVolume, field: string): string | undefined {
    if (v.partition_guid === undefined) return undefined;
    if (isGuid(v.partition_guid)) return v.partition_guid;
    this.warnings.push({ field: `${field}.partition_guid`, message: `${JSON.stringify(v.partition_guid)} is not a GUID: ignored, the partition type follows its role` });
    return undefined;
  }
  add(code: ErrorCode, field: string, message: string, details: Record<string, unknown> = {}): void {
    this.list.push(new ForgeError(code, `${field}: ${message}`, { field, details }));
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    if (this.list.length === 1) throw this.list[0]!;
    throw new ForgeErrors(this.list[0]!.code, this.list);
  }
}

const sizeOf = (n: number) => Math.ceil(n);
const isBootMount = (v: DiskVolume) => v.mount === '/boot' && (v.type === 'partition' || v.type === 'raid');
const hasMount = (m: string | undefined): m is string => m !== undefined && m !== '' && m !== 'none';
/** A filesystem is made but not mounted (Swift's `mount: "none"` with xfs): fstab and mounts skip it. */
export const UNMOUNTED = 'none';
/** The volume's `file_system`, with Nailgun's "none" (Ceph: no filesystem) as absent. */
const fsTypeOf = (v: { file_system?: string | undefined }): FsType | undefined =>
  v.file_system === undefined || v.file_system === 'none' ? undefined : (v.file_system as FsType);

function defaultFsType(mount: string, isBoot: boolean): FsType {
  if (mount === 'swap') return 'swap';
  if (mount === '/boot/efi') return 'vfat';
  return isBoot ? 'ext2' : 'xfs';
}

/** Fuel skips disks that carry nothing but boot reservations. */
function carriesData(ks: KsDisk): boolean {
  return ks.volumes.some(
    (v) => v.size > 0 && v.type !== 'boot' && v.type !== 'lvm_meta_pool' && v.mount !== '/boot',
  );
}

function diskEntries(data: ProvisionData): { disks: DiskEntry[]; vgs: { index: number; ks: KsVg }[] } {
  const disks: DiskEntry[] = [];
  const vgs: { index: number; ks: KsVg }[] = [];
  data.ks_meta.pm_data.ks_spaces.forEach((s, index) => {
    if (s.type === 'disk') {
      if (s.size > 0) disks.push({ index, ks: s });
    } else vgs.push({ index, ks: s });
  });
  return { disks, vgs };
}

function matchAll(disks: readonly DiskEntry[], inventory: Inventory, problems: Problems): ActiveDisk[] {
  const active: ActiveDisk[] = [];
  const taken = new Map<string, number>();
  for (const d of disks) {
    if (!carriesData(d.ks)) continue;
    const field = spacePath(d.index);
    try {
      const match = matchDisk(d.ks, inventory, field);
      const other = taken.get(match.disk.path);
      if (other !== undefined) {
        problems.add('PLAN_INVALID', field, `disk ${d.ks.name} resolves to ${match.disk.path}, already used by ${spacePath(other)}`);
        continue;
      }
      taken.set(match.disk.path, d.index);
      active.push({ ...d, match });
    } catch (e) {
      if (e instanceof ForgeError) problems.list.push(e);
      else throw e;
    }
  }
  return active;
}

/** VGs holding `/`: their PV disks are "OS disks" in Fuel's sense. */
function rootVgIds(vgs: readonly { ks: KsVg }[]): Set<string> {
  return new Set(vgs.filter((g) => g.ks.volumes.some((l) => l.mount === '/' && l.size > 0)).map((g) => g.ks.id));
}

const hasEsp = (disks: readonly ActiveDisk[]) =>
  disks.some((d) => d.ks.volumes.some((v) => v.mount === '/boot/efi' && v.size > 0 && v.type === 'partition'));

/** Which /boot volumes get a partition: `${diskIndex}:${volumeIndex}`. */
function chooseBoot(
  all: readonly DiskEntry[],
  active: readonly ActiveDisk[],
  rootVgs: ReadonlySet<string>,
  raidBoot: boolean,
  problems: Problems,
): Set<string> {
  const vols = active.flatMap((d) =>
    d.ks.volumes.flatMap((v, j) => (isBootMount(v) && v.size > 0 ? [{ d, v, j }] : [])),
  );
  const wanted = all.some((d) => d.ks.volumes.some((v) => isBootMount(v) && v.size > 0));
  if (vols.length === 0) {
    if (wanted) problems.add('PLAN_INVALID', spacePath(), '/boot is requested but no provisioned disk can hold it');
    return new Set();
  }
  // BIOS firmware often cannot read NVMe (Fuel never puts /boot there): only
  // with an EFI system partition may /boot live on NVMe, and only when no other
  // disk offers it.
  const notNvme = vols.filter((b) => !isNvme(b.d.match.disk.path) && !isNvme(b.d.ks.name));
  if (notNvme.length === 0 && !hasEsp(active)) {
    const b = vols[0]!;
    problems.add(
      'PLAN_INVALID',
      spacePath(b.d.index, 'volumes', b.j),
      `/boot can only go on NVMe disk ${b.d.match.disk.path}, which BIOS boot cannot read: ` +
        'add /boot on a non-NVMe disk or an EFI system partition (/boot/efi)',
    );
    return new Set();
  }
  let cands = notNvme.length ? notNvme : vols;
  // Root on a fake-RAID (md) disk: /boot must be there too, or GRUB cannot find it.
  const mdOs = cands.filter(
    (b) => b.d.ks.name.startsWith('md') && b.d.ks.volumes.some((v) => v.type === 'pv' && v.size > 0 && rootVgs.has(v.vg ?? '')),
  );
  if (mdOs.length) cands = mdOs;
  const bootable = cands.filter((b) => b.d.ks.bootable === true);
  if (bootable.length > 1) {
    problems.add('PLAN_INVALID', spacePath(bootable[1]!.d.index, 'bootable'), 'more than one disk is marked bootable');
  } else if (bootable.length === 1) cands = bootable;
  const first = cands[0]!;
  // Opt-in: a raid /boot becomes RAID1 across every suitable disk that offers one.
  // By default it is one plain partition on the first, as fuel-agent makes it.
  const chosen = raidBoot && first.v.type === 'raid' ? cands.filter((b) => b.v.type === 'raid') : [first];
  return new Set(chosen.map((b) => `${b.d.index}:${b.j}`));
}

/**
 * The configdrive's disk, fuel-agent's rule: the first laid-out disk with a
 * partition or raid volume for `/` (of any size, even 0) or a non-empty PV of the
 * VG `os`. fuel-agent stops there (no configdrive when `/` is in another VG); we
 * also accept a PV of whichever VG holds `/`.
 */
function configdriveDiskIndex(active: readonly ActiveDisk[], rootVgs: ReadonlySet<string>): number | undefined {
  const d = active.find((a) =>
    a.ks.volumes.some(
      (v) =>
        ((v.type === 'partition' || v.type === 'raid') && v.mount === '/') ||
        (v.type === 'pv' && v.size > 0 && v.vg !== undefined && (v.vg === 'os' || rootVgs.has(v.vg))),
    ),
  );
  return d?.index;
}

/**
 * On a UEFI node with no /boot/efi volume, the ESP goes in fuel-agent's reserved
 * second partition of every disk holding /boot (each member of a RAID1 /boot: the
 * first is mounted at /boot/efi, the others mirror it), else of the configdrive's disk.
 */
function espDiskIndices(
  inventory: Inventory,
  active: readonly ActiveDisk[],
  bootChoice: ReadonlySet<string>,
  configdriveDisk: number | undefined,
): number[] {
  if (inventory.firmware !== 'uefi' || hasEsp(active)) return [];
  const boots = [...new Set([...bootChoice].map((b) => Number(b.split(':')[0])))];
  if (boots.length) return boots;
  const i = configdriveDisk ?? active[0]?.index;
  return i === undefined ? [] : [i];
}

export function buildPlan(data: ProvisionData, inventory: Inventory): Plan {
  const problems = new Problems();
  const { disks, vgs: vgEntries } = diskEntries(data);
  const active = matchAll(disks, inventory, problems);
  problems.throwIfAny();

  const rootVgs = rootVgIds(vgEntries);
  const raidBoot = data.ks_meta.pm_data.raid_boot === true;
  const bootChoice = chooseBoot(disks, active, rootVgs, raidBoot, problems);
  const rootDisk = configdriveDiskIndex(active, rootVgs);
  const espDisks = espDiskIndices(inventory, active, bootChoice, rootDisk);
  const splitJournal = cephJournalSplitter(disks.map((d) => d.ks));

  const parteds: PlannedDisk[] = [];
  const fss: FsSource[] = [];
  const pvs: (PlannedPv & { usable: number })[] = [];
  const raidGroups = new Map<string, RaidMember[]>();
  const keepSeeds = new Set<string>();
  let configdrive: Plan['configdrive'];

  for (const d of active) {
    const inv = d.match.disk;
    const diskMiB = Math.floor(inv.size / MiB);
    const usableEnd = diskMiB - GPT_TAIL;
    const holdsConfigdrive = d.index === rootDisk;
    const limit = usableEnd - (holdsConfigdrive ? PARTITION_GAP + CONFIGDRIVE_SIZE : 0);
    const parts: PlannedPartition[] = [];
    let overflowed = false;

    const add = (size: number, p: Omit<PlannedPartition, 'num' | 'device' | 'begin' | 'end' | 'size' | 'keepData'>, field: string, last = false) => {
      const prev = parts.at(-1);
      const begin = prev ? prev.end + PARTITION_GAP : FIRST_PARTITION_BEGIN;
      const end = begin + size;
      const lim = last ? usableEnd : limit;
      if (end > lim && !overflowed) {
        overflowed = true;
        problems.add(
          'SIZE_DOES_NOT_FIT',
          field,
          `${size} MiB does not fit on ${inv.path} (${diskMiB} MiB): it would end at ${end} MiB, ` +
            `the last usable MiB is ${lim}${holdsConfigdrive && !last ? ` (${PARTITION_GAP + CONFIGDRIVE_SIZE} MiB kept for the configdrive)` : ''}`,
          { device: inv.path, end, limit: lim },
        );
      }
      const num = parts.length + 1;
      const part: PlannedPartition = {
        num,
        device: partitionDevice(inv.path, num),
        begin,
        end,
        size,
        ...p,
        keepData: false,
      };
      parts.push(part);
      return part;
    };

    const diskField = spacePath(d.index, 'size');
    add(BIOS_GRUB_SIZE, { flags: ['bios_grub'], guid: GUID.biosGrub, name: 'bios_grub', role: 'bios_grub' }, diskField);
    const espAt = espDisks.indexOf(d.index);
    if (espAt === 0) {
      const esp = add(UEFI_RESERVE_SIZE, { flags: ['esp'], guid: GUID.esp, name: 'EFI system partition', role: '/boot/efi' }, diskField);
      fss.push({ fs: makeFs(esp.device, '/boot/efi', {}), field: diskField });
    } else if (espAt > 0) {
      const esp = add(UEFI_RESERVE_SIZE, { flags: ['esp'], guid: GUID.esp, name: 'EFI system partition', role: ESP_MIRROR_ROLE }, diskField);
      fss.push({ fs: { ...makeFs(esp.device, '/boot/efi', {}), mount: UNMOUNTED }, field: diskField });
    } else {
      add(UEFI_RESERVE_SIZE, { flags: [], name: 'uefi', role: 'uefi-reserve' }, diskField);
    }

    d.ks.volumes.forEach((v, j) => {
      const field = spacePath(d.index, 'volumes', j);
      if (v.size <= 0 || v.type === 'boot' || v.type === 'lvm_meta_pool') return;
      if (v.name === CEPH_JOURNAL_NAME) {
        // One partition per OSD served (fuel-agent makes them only for partition volumes).
        const split = splitJournal(v.size);
        if (v.type !== 'partition') return;
        const guid = problems.guidOf(v, field);
        for (let i = 0; i < split.count; i++) {
          const part = add(split.size, { flags: [], ...(guid === undefined ? {} : { guid }), name: CEPH_JOURNAL_NAME, role: 'none' }, `${field}.size`);
          if (v.keep_data) keepSeeds.add(part.device);
        }
        return;
      }
      const boot = isBootMount(v);
      if (boot && !bootChoice.has(`${d.index}:${j}`)) return;
      const size = sizeOf(v.size);
      const sizeField = `${field}.size`;

      // A raid /boot is a plain partition unless raid_boot asks for RAID1.
      if (v.type === 'partition' || (boot && !raidBoot)) {
        const esp = v.mount === '/boot/efi';
        const mount = hasMount(v.mount) ? v.mount : undefined;
        const fsType = fsTypeOf(v);
        if (mount !== undefined && v.file_system === 'none') {
          problems.add('PLAN_INVALID', `${field}.file_system`, `"none" but the volume is mounted at ${mount}: give its filesystem or mount "none"`);
        }
        // fuel-agent: a filesystem when either a mount point or a file system is given.
        const formatted = mount !== undefined || fsType !== undefined;
        const guid = v.type === 'partition' ? (problems.guidOf(v, field) ?? (esp ? GUID.esp : undefined)) : undefined;
        const part = add(size, {
          flags: esp ? ['esp'] : [],
          ...(guid === undefined ? {} : { guid }),
          name: gptName(v.name ?? mount ?? 'primary'),
          role: mount ?? 'none',
        }, sizeField);
        if (v.keep_data) keepSeeds.add(part.device);
        if (formatted) fss.push({ fs: makeFs(part.device, mount ?? UNMOUNTED, v), field });
        return;
      }

      if (v.type === 'pv') {
        const vg = v.vg ?? '';
        if (vg === '') problems.add('PLAN_INVALID', `${field}.vg`, 'must name a volume group');
        const meta = v.lvm_meta_size ?? DEFAULT_LVM_META_SIZE;
        if (meta < MIN_LVM_META_SIZE) {
          problems.add('PLAN_INVALID', `${field}.lvm_meta_size`, `${meta} MiB is too small for LVM metadata (at least ${MIN_LVM_META_SIZE})`);
        }
        if (meta >= size) problems.add('SIZE_DOES_NOT_FIT', sizeField, `${size} MiB leaves no room after ${meta} MiB of LVM metadata`);
        const part = add(size, { flags: ['lvm'], guid: problems.guidOf(v, field) ?? GUID.lvm, name: gptName(`pv-${vg}`), role: `pv:${vg}` }, sizeField);
        if (v.keep_data) keepSeeds.add(part.device);
        // Fuel's arithmetic: two metadata copies sharing the reservation, minus the label area.
        pvs.push({
          device: part.device,
          vg,
          metadataSize: Math.max(1, Math.floor((meta - 8) / 2)),
          metadataCopies: 2,
          reservedSize: meta,
          keepData: false,
          usable: Math.max(0, size - meta),
        });
        return;
      }

      // raid
      const key = hasMount(v.mount) ? v.mount : `#${d.index}:${j}`;
      const part = add(size, { flags: ['raid'], guid: problems.guidOf(v, field) ?? GUID.raid, name: gptName(`raid-${v.name ?? key}`), role: 'raid' }, sizeField);
      if (v.keep_data) keepSeeds.add(part.device);
      if (hasMount(v.mount)) {
        const members = raidGroups.get(key) ?? [];
        members.push({ part, vol: v, field });
        raidGroups.set(key, members);
      }
    });

    if (holdsConfigdrive) {
      const part = add(CONFIGDRIVE_SIZE, { flags: [], guid: GUID.linux, name: 'config-2', role: 'configdrive' }, diskField, true);
      configdrive = { device: part.device, disk: inv.path, partitionNum: part.num, size: CONFIGDRIVE_SIZE, label: 'config-2', format: 'vfat' };
    }

    parteds.push({
      id: d.ks.id,
      name: d.ks.name,
      device: inv.path,
      matchedBy: d.match.by,
      matchedOn: d.match.on,
      size: diskMiB,
      logicalSectorSize: inv.logicalSectorSize,
      physicalSectorSize: inv.physicalSectorSize,
      label: 'gpt',
      partitions: parts,
      keepData: false,
      boot: true,
    });
  }

  const mds = planMds(raidGroups, fss);
  const { vgs, lvs } = planLvm(vgEntries, pvs, fss, keepSeeds, problems);
  problems.throwIfAny();

  checkMounts(fss, problems);
  problems.throwIfAny();

  const plainPvs: PlannedPv[] = pvs.map(({ usable: _u, ...pv }) => pv);
  const plan: Plan = {
    version: PLAN_VERSION,
    parteds,
    mds,
    pvs: plainPvs,
    vgs,
    lvs,
    fss: mountOrder(fss.map((f) => f.fs)),
    images: [],
    bootloader: planBootloader(parteds, fss, data),
  };
  if (configdrive) plan.configdrive = configdrive;
  // A raid volume's partition_guid is looked at twice (as a member, then as a lone member): warn once.
  const warnings = [...new Map(problems.warnings.map((w) => [w.field, w])).values()];
  if (warnings.length) plan.warnings = warnings;
  propagateKeepData(plan, keepSeeds);
  plan.images = planImages(data, plan.fss);
  return plan;
}

/** Parents before children (`/`, `/boot`, `/boot/efi`, …), swap and unmounted last: the order to mount them in. */
function mountOrder(fss: PlannedFs[]): PlannedFs[] {
  const depth = (f: PlannedFs) => (!f.mount.startsWith('/') ? Infinity : f.mount === '/' ? 0 : f.mount.split('/').length - 1);
  return fss.map((f, i) => ({ f, i })).sort((a, b) => depth(a.f) - depth(b.f) || a.i - b.i).map((x) => x.f);
}

function makeFs(device: string, mount: string, v: { file_system?: string | undefined; disk_label?: string | null | undefined }, isBoot = mount === '/boot'): PlannedFs {
  const type = fsTypeOf(v) ?? defaultFsType(mount, isBoot);
  const fs: PlannedFs = {
    device,
    mount,
    type,
    mkfsOptions: [],
    mountOptions: 'defaults',
    fromImage: false,
    keepData: false,
  };
  // Cut by characters, not UTF-16 units; the byte limit per filesystem is checked with the mounts.
  if (v.disk_label) fs.label = [...v.disk_label].slice(0, type === 'vfat' ? VFAT_LABEL_MAX : LABEL_MAX).join('');
  return fs;
}

/** Raid volumes sharing a mount point become one RAID1; a lone member a one-device RAID1, as in fuel-agent. */
function planMds(groups: Map<string, RaidMember[]>, fss: FsSource[]): PlannedMd[] {
  const mds: PlannedMd[] = [];
  const used = new Set<string>();
  for (const [mount, members] of groups) {
    const first = members[0]!;
    // A raid volume's own name passed the schema's md rules; one derived from a mount point is made to.
    let name = (first.vol.name ?? mount.replace(/^\//, '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 28)) || 'root';
    for (let n = 1; used.has(name); n++) name = `${first.vol.name ?? 'md'}${n}`;
    used.add(name);
    const device = mdDevice(name);
    for (const m of members) m.part.role = `raid:${name}`;
    mds.push({
      name,
      device,
      level: 'raid1',
      members: members.map((m) => m.part.device),
      // Superblock at the end: GRUB and firmware read each member as a plain filesystem.
      metadata: mount === '/boot' || mount === '/' || mount === '/boot/efi' ? '1.0' : '1.2',
      keepData: false,
    });
    fss.push({ fs: makeFs(device, mount, first.vol), field: first.field });
  }
  return mds;
}

function planLvm(
  vgEntries: readonly { index: number; ks: KsVg }[],
  pvs: readonly (PlannedPv & { usable: number })[],
  fss: FsSource[],
  keepSeeds: Set<string>,
  problems: Problems,
): { vgs: PlannedVg[]; lvs: PlannedLv[] } {
  const vgs: PlannedVg[] = [];
  const lvs: PlannedLv[] = [];
  for (const { index, ks } of vgEntries) {
    const members = pvs.filter((p) => p.vg === ks.id);
    const wanted = ks.volumes.map((l, m) => ({ l, m })).filter(({ l }) => l.size > 0);
    if (members.length === 0) {
      if (wanted.length) problems.add('PLAN_INVALID', spacePath(index), `volume group "${ks.id}" has logical volumes but no physical volume of non-zero size`);
      continue;
    }
    vgs.push({ name: ks.id, pvs: members.map((p) => p.device), keepData: false });
    const capacity = members.reduce((s, p) => s + p.usable, 0);
    let used = 0;
    let reported = false;
    for (const { l, m } of wanted) {
      const size = sizeOf(l.size);
      used += size;
      const field = spacePath(index, 'volumes', m);
      if (used > capacity && !reported) {
        reported = true;
        problems.add('SIZE_DOES_NOT_FIT', `${field}.size`, `logical volume ${l.name} (${size} MiB) does not fit in volume group ${ks.id}: ${used} MiB needed, ${capacity} MiB available`, { vg: ks.id, needed: used, capacity });
      }
      const device = lvDevice(ks.id, l.name);
      lvs.push({ vg: ks.id, name: l.name, size, device, keepData: false });
      if (l.keep_data) keepSeeds.add(device);
      if (hasMount(l.mount)) fss.push({ fs: makeFs(device, l.mount, l), field });
    }
  }
  // A PV naming a VG that ks_spaces does not define still gets its (empty) VG, as in Fuel.
  for (const pv of pvs) {
    if (!vgs.some((g) => g.name === pv.vg)) vgs.push({ name: pv.vg, pvs: pvs.filter((p) => p.vg === pv.vg).map((p) => p.device), keepData: false });
  }
  return { vgs, lvs };
}

function checkMounts(fss: readonly FsSource[], problems: Problems): void {
  const seen = new Map<string, string>();
  for (const { fs, field } of fss) {
    const badLabel = fs.label === undefined ? undefined : labelFor(fs.type)(fs.label);
    if (badLabel) problems.add('PLAN_INVALID', `${field}.disk_label`, `label (cut to ${[...(fs.label ?? '')].length} characters) ${badLabel}`);
    if (fs.mount === 'swap' || fs.mount === UNMOUNTED) continue;
    if (!fs.mount.startsWith('/')) {
      problems.add('PLAN_INVALID', `${field}.mount`, `mount point "${fs.mount}" must be absolute, "swap" or "none"`);
      continue;
    }
    const prev = seen.get(fs.mount);
    if (prev) problems.add('PLAN_INVALID', `${field}.mount`, `${fs.mount} is already mounted from ${prev}`);
    else seen.set(fs.mount, field);
  }
  if (!seen.has('/')) problems.add('PLAN_INVALID', spacePath(), 'no volume is mounted at /');
}

function planBootloader(parteds: readonly PlannedDisk[], fss: readonly FsSource[], data: ProvisionData): Plan['bootloader'] {
  const byMount = (m: string) => fss.find((f) => f.fs.mount === m)?.fs.device;
  const root = byMount('/') ?? '';
  const esp = byMount('/boot/efi');
  const mirrors = parteds.flatMap((d) => d.partitions.filter((p) => p.role === ESP_MIRROR_ROLE).map((p) => p.device));
  return {
    disks: parteds.filter((d) => d.partitions.some((p) => p.flags.includes('bios_grub'))).map((d) => d.device),
    bootDevice: byMount('/boot') ?? root,
    rootDevice: root,
    ...(esp === undefined ? {} : { espDevice: esp }),
    ...(mirrors.length ? { espMirrors: mirrors } : {}),
    kernelParams: data.ks_meta.pm_data.kernel_params ?? '',
  };
}
