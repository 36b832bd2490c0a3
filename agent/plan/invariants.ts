// What every plan must satisfy, whatever the input. Two kinds:
//  - soundness: geometry and references that make a plan safe to execute at all
//    (no overlapping or out-of-disk partition, every md member and PV planned).
//    `provision partition|image|verify --plan FILE` refuses a plan file that breaks
//    one, before any write (planSoundnessProblems);
//  - layout: fuel-agent's conventions that buildPlan follows (bios_grub first, the
//    UEFI reserve second, 1 MiB gaps, one root, parents mounted first), checked by
//    the unit tests on every fixture and by the property suite on generated inputs.
// planViolations returns both as text (empty when the plan is sound) so a failure says what is wrong.
import { BIOS_GRUB_SIZE, FIRST_PARTITION_BEGIN, GPT_TAIL, PARTITION_GAP, UEFI_RESERVE_SIZE, ESP_MIRROR_ROLE } from './build.js';
import type { Plan } from './types.js';

export interface PlanProblem {
  /** JSON path in the plan, e.g. `parteds[0].partitions[2]`. */
  field: string;
  message: string;
}

/** Geometry and references: a plan breaking one of these must never reach a disk. */
export function planSoundnessProblems(plan: Plan): PlanProblem[] {
  const v: PlanProblem[] = [];
  const add = (field: string, message: string): void => void v.push({ field, message });
  const diskDevices = new Set<string>();
  plan.parteds.forEach((d, di) => {
    const df = `parteds[${di}]`;
    if (diskDevices.has(d.device)) add(df, `${d.device} is planned twice`);
    diskDevices.add(d.device);
    let prev: { end: number; device: string } | undefined;
    d.partitions.forEach((p, i) => {
      const f = `${df}.partitions[${i}]`;
      const at = `${p.device}`;
      if (p.num !== i + 1) add(`${f}.num`, `${at}: number ${p.num}, expected ${i + 1}`);
      for (const x of [p.begin, p.end, p.size]) if (!Number.isInteger(x)) add(f, `${at}: ${x} is not a whole MiB`);
      if (p.end - p.begin !== p.size) add(`${f}.size`, `${at}: size ${p.size} != end-begin ${p.end - p.begin}`);
      if (p.size <= 0) add(`${f}.size`, `${at}: empty`);
      if (p.begin < FIRST_PARTITION_BEGIN) add(`${f}.begin`, `${at}: begins at ${p.begin}, inside the GPT header`);
      if (prev && p.begin < prev.end) add(`${f}.begin`, `${at}: begins at ${p.begin}, inside ${prev.device} (which ends at ${prev.end})`);
      if (p.end > d.size - GPT_TAIL) add(`${f}.end`, `${at}: ends at ${p.end}, past the usable end ${d.size - GPT_TAIL} of ${d.device}`);
      if ((p.begin * 1024 * 1024) % d.logicalSectorSize !== 0) add(`${f}.begin`, `${at}: not aligned to ${d.logicalSectorSize}-byte sectors`);
      prev = { end: p.end, device: p.device };
    });
    if (d.keepData !== d.partitions.some((p) => p.keepData)) add(`${df}.keepData`, `${d.device}: keepData disagrees with its partitions`);
  });
  const devices = new Set(plan.parteds.flatMap((d) => d.partitions.map((p) => p.device)));
  plan.mds.forEach((md, i) => {
    for (const m of md.members) if (!devices.has(m)) add(`mds[${i}].members`, `${md.device}: member ${m} is not planned`);
  });
  plan.pvs.forEach((pv, i) => {
    if (!devices.has(pv.device) && !plan.mds.some((m) => m.device === pv.device)) add(`pvs[${i}].device`, `pv ${pv.device} is not planned`);
  });
  plan.vgs.forEach((vg, i) => {
    const pvs = plan.pvs.filter((p) => p.vg === vg.name);
    const sizeOf = (dev: string) => plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === dev)?.size ?? 0;
    const capacity = pvs.reduce((s, p) => s + sizeOf(p.device) - (p.reservedSize ?? p.metadataSize), 0);
    const used = plan.lvs.filter((l) => l.vg === vg.name).reduce((s, l) => s + l.size, 0);
    if (used > capacity) add(`vgs[${i}]`, `vg ${vg.name}: LVs need ${used} MiB, PVs give ${capacity}`);
  });
  const fsDevices = new Set<string>();
  plan.fss.forEach((f, i) => {
    if (fsDevices.has(f.device)) add(`fss[${i}].device`, `${f.device} carries two filesystems`);
    fsDevices.add(f.device);
  });
  return v;
}

/** fuel-agent's layout, as buildPlan makes it (a hand-written plan file need not follow it). */
export function planLayoutProblems(plan: Plan): PlanProblem[] {
  const v: PlanProblem[] = [];
  const add = (field: string, message: string): void => void v.push({ field, message });
  plan.parteds.forEach((d, di) => {
    let prevEnd = 0;
    d.partitions.forEach((p, i) => {
      const f = `parteds[${di}].partitions[${i}]`;
      const at = `${p.device}`;
      // fuel-agent's spacing: each partition starts 1 MiB after the previous one ends.
      if (i > 0 && p.begin !== prevEnd + PARTITION_GAP) add(f, `${at}: begins at ${p.begin}, not ${PARTITION_GAP} MiB after ${prevEnd}`);
      if (i === 0 && p.begin !== FIRST_PARTITION_BEGIN) add(f, `${at}: first partition at ${p.begin}, not 1 MiB`);
      if (i === 0 && (p.role !== 'bios_grub' || p.size !== BIOS_GRUB_SIZE)) add(f, `${at}: not the ${BIOS_GRUB_SIZE} MiB bios_grub partition`);
      if (i === 1 && (!['uefi-reserve', '/boot/efi', ESP_MIRROR_ROLE].includes(p.role) || p.size !== UEFI_RESERVE_SIZE)) add(f, `${at}: not fuel-agent's ${UEFI_RESERVE_SIZE} MiB UEFI partition`);
      prevEnd = p.end;
    });
  });
  const roots = plan.fss.filter((f) => f.mount === '/');
  if (roots.length !== 1) add('fss', `${roots.length} filesystems mounted at /`);
  plan.fss.forEach((f, i) => {
    const parentLater = plan.fss.slice(i + 1).find((g) => g.mount !== 'swap' && f.mount !== 'swap' && (g.mount === '/' ? f.mount !== '/' : f.mount.startsWith(`${g.mount}/`)));
    if (parentLater) add(`fss[${i}]`, `fss: ${f.mount} comes before its parent ${parentLater.mount}`);
  });
  // The image step checks its targets itself (checkImageShapes, inspectTarget) with its own errors.
  plan.images.forEach((img, i) => {
    if (!plan.fss.some((f) => f.device === img.targetDevice && f.mount === img.mount)) add(`images[${i}].targetDevice`, `image ${img.uri}: target ${img.targetDevice} is not the fs at ${img.mount}`);
  });
  if (plan.configdrive) {
    const d = plan.parteds.find((x) => x.device === plan.configdrive!.disk);
    const last = d?.partitions.at(-1);
    if (!last || last.device !== plan.configdrive.device || last.role !== 'configdrive') add('configdrive', 'configdrive is not the last partition of its disk');
  }
  return v;
}

/** Both kinds, as text: empty for every plan buildPlan makes. */
export function planViolations(plan: Plan): string[] {
  return [...planSoundnessProblems(plan), ...planLayoutProblems(plan)].map((p) => p.message);
}
