// Our plan in the shape fuel-agent's recorded schemes use (fixtures/fuel-agent-plans,
// format in its README), with each documented difference (README, "Differences
// from fuel-agent") removed by one named rule, so a differential test compares
// everything else exactly. A rule here is a claim in the README: keep them in step.
import { UNMOUNTED } from '../plan/build.js';
import { GUID, isGuid } from '../plan/guids.js';
import type { Plan } from '../plan/types.js';

export interface FuelPartition {
  num: number;
  device: string;
  begin: number;
  end: number;
  flags: string[];
  guid: string | null;
  configdrive: boolean;
  keep_data: boolean;
}
export interface FuelScheme {
  parteds: { device: string; label: string; partitions: FuelPartition[] }[];
  mds: { name: string; level: string; devices: string[]; metadata: string; keep_data: boolean }[];
  pvs: { device: string; metadatasize: number; metadatacopies: number }[];
  vgs: { name: string; pvs: string[] }[];
  lvs: { vg: string; name: string; size: number; device: string }[];
  fss: { device: string; mount: string | null; type: string; label: string; keep_data: boolean }[];
  configdrive: string | null;
}

const ROLE_GUIDS = new Set<string>(Object.values(GUID).map((g) => g.toLowerCase()));
const byDevice = <T extends { device: string }>(a: T, b: T) => a.device.localeCompare(b.device);
const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/**
 * The differences the README lists, as projections applied to both sides.
 * - type-guids: we type bios_grub/ESP/LVM/RAID/configdrive partitions and flag ESP, LVM and RAID ones; fuel-agent sets only the data's partition_guid and the bios_grub flag.
 * - invalid-guid: a partition_guid that is not a GUID ("fake_guid") is ignored with a warning; fuel-agent hands it to sgdisk.
 * - md-names: arrays are /dev/md/<name>; fuel-agent's are /dev/md0, /dev/md1, … in creation order.
 * - md-metadata: 1.0 (superblock at the end) for /, /boot and /boot/efi, which GRUB and firmware read as plain filesystems; fuel-agent uses mdadm's default (1.2), as we do elsewhere.
 * - keep-layers: keep_data is recorded on every layer under the kept data; fuel-agent records it on the filesystem only.
 * - keep-through-md: keep_data on a raid volume keeps its array and filesystem; fuel-agent drops it there (and would re-create the array over the data).
 * - order: the plan lists VGs and filesystems in dependency order; fuel-agent in the order it met them.
 */
export function normaliseTheirs(t: FuelScheme): FuelScheme {
  return {
    parteds: t.parteds.map((d) => ({
      ...d,
      partitions: d.partitions.map((p) => ({ ...p, guid: p.guid !== null && isGuid(p.guid) ? p.guid.toLowerCase() : null, keep_data: false })),
    })),
    mds: t.mds.map((m) => ({ ...m, metadata: 'default', keep_data: false })),
    pvs: [...t.pvs].sort(byDevice),
    vgs: t.vgs.map((g) => ({ ...g, pvs: [...g.pvs].sort() })).sort(byName),
    lvs: t.lvs,
    fss: [...t.fss].sort(byDevice),
    configdrive: t.configdrive ?? null,
  };
}

export function ourScheme(plan: Plan): FuelScheme {
  // md-names: ours in plan order are fuel-agent's md0, md1, … (both create an array at its first member).
  const mdName = new Map(plan.mds.map((m, i) => [m.device, `/dev/md${i}`]));
  const dev = (d: string) => mdName.get(d) ?? d;
  return {
    parteds: plan.parteds.map((d) => ({
      device: d.device,
      label: d.label,
      partitions: d.partitions.map((p) => ({
        num: p.num,
        device: p.device,
        begin: p.begin,
        end: p.end,
        flags: p.flags.filter((f) => f === 'bios_grub'),
        guid: p.guid !== undefined && !ROLE_GUIDS.has(p.guid.toLowerCase()) ? p.guid.toLowerCase() : null,
        configdrive: p.role === 'configdrive',
        keep_data: false,
      })),
    })),
    mds: plan.mds.map((m) => ({ name: dev(m.device), level: m.level === 'raid1' ? 'mirror' : m.level, devices: m.members, metadata: 'default', keep_data: false })),
    pvs: plan.pvs.map((p) => ({ device: p.device, metadatasize: p.metadataSize, metadatacopies: p.metadataCopies ?? 1 })).sort(byDevice),
    vgs: plan.vgs.map((g) => ({ name: g.name, pvs: [...g.pvs].sort() })).sort(byName),
    lvs: plan.lvs.map((l) => ({ vg: l.vg, name: l.name, size: l.size, device: l.device })),
    fss: plan.fss
      .map((f) => ({ device: dev(f.device), mount: f.mount === UNMOUNTED ? null : f.mount, type: f.type, label: f.label ?? '', keep_data: f.keepData && !mdName.has(f.device) }))
      .sort(byDevice),
    configdrive: plan.configdrive?.device ?? null,
  };
}
