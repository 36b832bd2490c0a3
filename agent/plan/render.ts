// The plan as people read it: one table per disk, then RAID, LVM, filesystems,
// images, configdrive and bootloader. `--json` prints the Plan itself instead
// (through planJson). Both print URLs without credentials.
import { redactDeep, redactUrlsIn } from '../core/redact.js';
import type { Plan } from './types.js';

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const yes = (b: boolean) => (b ? 'yes' : '');

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  for (const d of plan.parteds) {
    out.push(
      `disk ${d.device} (ks_spaces ${d.name}, matched by ${d.matchedBy} ${d.matchedOn}) ` +
        `${d.size} MiB, sectors ${d.logicalSectorSize}/${d.physicalSectorSize}, label ${d.label}` +
        `${d.keepData ? ', keeps data (not relabelled)' : ''}`,
    );
    out.push(
      table(
        ['#', 'device', 'begin', 'end', 'size', 'flags', 'role', 'name', 'keep'],
        d.partitions.map((p) => [
          String(p.num), p.device, String(p.begin), String(p.end), String(p.size),
          p.flags.join(','), p.role, p.name, yes(p.keepData),
        ]),
      ),
      '',
    );
  }
  if (plan.mds.length) {
    out.push('raid', table(['device', 'level', 'metadata', 'members', 'keep'], plan.mds.map((m) => [m.device, m.level, m.metadata, m.members.join(' '), yes(m.keepData)])), '');
  }
  if (plan.vgs.length) {
    out.push('lvm', table(['vg', 'pvs', 'keep'], plan.vgs.map((v) => [v.name, v.pvs.join(' '), yes(v.keepData)])), '');
    if (plan.lvs.length) out.push(table(['lv', 'size', 'device', 'keep'], plan.lvs.map((l) => [`${l.vg}/${l.name}`, String(l.size), l.device, yes(l.keepData)])), '');
  }
  out.push(
    'filesystems',
    table(
      ['mount', 'device', 'type', 'label', 'source', 'keep'],
      plan.fss.map((f) => [f.mount, f.device, f.type, f.label ?? '', f.fromImage ? 'image' : 'mkfs', yes(f.keepData)]),
    ),
    '',
  );
  if (plan.images.length) {
    out.push('images', table(['mount', 'target', 'format', 'container', 'uri'], plan.images.map((i) => [i.mount, i.targetDevice, i.format, i.container, redactUrlsIn(i.uri)])), '');
  }
  if (plan.configdrive) out.push(`configdrive ${plan.configdrive.device} ${plan.configdrive.size} MiB ${plan.configdrive.format} label ${plan.configdrive.label}`);
  const b = plan.bootloader;
  out.push(
    `bootloader on ${b.disks.join(' ') || '(none)'}; /boot ${b.bootDevice}; root ${b.rootDevice}` +
      `${b.espDevice ? `; ESP ${b.espDevice}` : ''}`,
    `kernel params: ${b.kernelParams || '(none)'}`,
  );
  for (const w of plan.warnings ?? []) out.push(`warning: ${w.field}: ${w.message}`);
  // Image URIs (and any URL in kernel params or warnings) may carry user:password@ or ?token=.
  return redactUrlsIn(out.join('\n'));
}

/** `provision plan --json`: the Plan as JSON, URL credentials and secret query values removed. */
export function planJson(plan: Plan): string {
  return JSON.stringify(redactDeep(plan), null, 2);
}
