// What every plan must satisfy, whatever the input: checked by the unit tests on
// every fixture and by the property suite on generated inputs. Returns the
// violations (empty when the plan is sound) so a failure says what is wrong.
import { BIOS_GRUB_SIZE, FIRST_PARTITION_BEGIN, GPT_TAIL, PARTITION_GAP, UEFI_RESERVE_SIZE } from './build.js';
import type { Plan } from './types.js';

export function planViolations(plan: Plan): string[] {
  const v: string[] = [];
  for (const d of plan.parteds) {
    let prevEnd = 0;
    d.partitions.forEach((p, i) => {
      const at = `${p.device}`;
      if (p.num !== i + 1) v.push(`${at}: number ${p.num}, expected ${i + 1}`);
      for (const x of [p.begin, p.end, p.size]) if (!Number.isInteger(x)) v.push(`${at}: ${x} is not a whole MiB`);
      if (p.end - p.begin !== p.size) v.push(`${at}: size ${p.size} != end-begin ${p.end - p.begin}`);
      if (p.size <= 0) v.push(`${at}: empty`);
      // fuel-agent's spacing: each partition starts 1 MiB after the previous one ends.
      if (i > 0 && p.begin !== prevEnd + PARTITION_GAP) v.push(`${at}: begins at ${p.begin}, not ${PARTITION_GAP} MiB after ${prevEnd}`);
      if (i === 0 && p.begin !== FIRST_PARTITION_BEGIN) v.push(`${at}: first partition at ${p.begin}, not 1 MiB`);
      if (i === 0 && (p.role !== 'bios_grub' || p.size !== BIOS_GRUB_SIZE)) v.push(`${at}: not the ${BIOS_GRUB_SIZE} MiB bios_grub partition`);
      if (i === 1 && (!['uefi-reserve', '/boot/efi'].includes(p.role) || p.size !== UEFI_RESERVE_SIZE)) v.push(`${at}: not fuel-agent's ${UEFI_RESERVE_SIZE} MiB UEFI partition`);
      if (p.end > d.size - GPT_TAIL) v.push(`${at}: ends at ${p.end}, past the usable end ${d.size - GPT_TAIL} of ${d.device}`);
      if ((p.begin * 1024 * 1024) % d.logicalSectorSize !== 0) v.push(`${at}: not aligned to ${d.logicalSectorSize}-byte sectors`);
      prevEnd = p.end;
    });
    if (d.keepData !== d.partitions.some((p) => p.keepData)) v.push(`${d.device}: keepData disagrees with its partitions`);
  }
  const roots = plan.fss.filter((f) => f.mount === '/');
  if (roots.length !== 1) v.push(`${roots.length} filesystems mounted at /`);
  const devices = new Set(plan.parteds.flatMap((d) => d.partitions.map((p) => p.device)));
  for (const md of plan.mds) for (const m of md.members) if (!devices.has(m)) v.push(`${md.device}: member ${m} is not planned`);
  for (const pv of plan.pvs) if (!devices.has(pv.device) && !plan.mds.some((m) => m.device === pv.device)) v.push(`pv ${pv.device} is not planned`);
  for (const vg of plan.vgs) {
    const pvs = plan.pvs.filter((p) => p.vg === vg.name);
    const sizeOf = (dev: string) => plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === dev)?.size ?? 0;
    const capacity = pvs.reduce((s, p) => s + sizeOf(p.device) - (p.reservedSize ?? p.metadataSize), 0);
    const used = plan.lvs.filter((l) => l.vg === vg.name).reduce((s, l) => s + l.size, 0);
    if (used > capacity) v.push(`vg ${vg.name}: LVs need ${used} MiB, PVs give ${capacity}`);
  }
  plan.fss.forEach((f, i) => {
    const parentLater = plan.fss.slice(i + 1).find((g) => g.mount !== 'swap' && f.mount !== 'swap' && (g.mount === '/' ? f.mount !== '/' : f.mount.startsWith(`${g.mount}/`)));
    if (parentLater) v.push(`fss: ${f.mount} comes before its parent ${parentLater.mount}`);
  });
  const fsDevices = new Set<string>();
  for (const f of plan.fss) {
    if (fsDevices.has(f.device)) v.push(`${f.device} carries two filesystems`);
    fsDevices.add(f.device);
  }
  for (const img of plan.images) {
    if (!plan.fss.some((f) => f.device === img.targetDevice && f.mount === img.mount)) v.push(`image ${img.uri}: target ${img.targetDevice} is not the fs at ${img.mount}`);
  }
  if (plan.configdrive) {
    const d = plan.parteds.find((x) => x.device === plan.configdrive!.disk);
    const last = d?.partitions.at(-1);
    if (!last || last.device !== plan.configdrive.device || last.role !== 'configdrive') v.push('configdrive is not the last partition of its disk');
  }
  return v;
}
