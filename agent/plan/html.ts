// The plan's disks drawn as HTML: each disk a bar of its partitions (widths in
// proportion to size, with a minimum so a 1 MiB bios_grub stays visible), RAID
// and LVM stacked below, and a partition table as read back from a disk drawn
// the same way with its differences from the plan marked. Pure string building,
// inline CSS, no scripts or external resources: `provision plan --html` and the
// lab's run report (lab/report/render.ts) both use it. Every element a test or
// a browser reads carries data-* attributes; every text comes through esc().
import { typeGuidFor } from './type-guid.js';
import { GUID } from './guids.js';
import { partitionDevice } from './names.js';
import type { Plan, PlannedDisk, PlannedFs, PlannedMd, PlannedPartition } from './types.js';

/** Text or attribute value made safe for HTML (names and labels come from user data). */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A partition table as read from a disk (lab/verify/host-disk.ts HostDiskView has this shape). */
export interface FoundDisk {
  label: string | undefined;
  sectorSize: number;
  partitions: readonly { node: string; start: number; size: number; type: string; name?: string }[];
}

/** How a found partition differs from the planned one with its number. */
export type PartitionDiff = 'missing' | 'extra' | 'start' | 'size' | 'type';

export interface FoundPartition {
  num: number;
  /** The kernel name the plan gives number `num` (the read-back node may be a loop or file name). */
  device: string;
  /** What the table says (the node name as read), absent for a missing partition. */
  node?: string;
  begin: number;
  size: number;
  type: string;
  name: string;
  diffs: PartitionDiff[];
}

// Gaps smaller than this are alignment, not free space worth drawing.
const FREE_MIN_MIB = 16;
const MiB = 2 ** 20;

const TYPE_NAMES: Record<string, string> = {
  [GUID.biosGrub]: 'bios_grub',
  [GUID.esp]: 'esp',
  [GUID.lvm]: 'lvm',
  [GUID.raid]: 'raid',
  [GUID.swap]: 'swap',
  [GUID.linux]: 'linux',
};

// A found partition's colour, by its type's short name (unknown types: plain filesystem).
const FOUND_KIND: Record<string, string> = { bios_grub: 'bios', esp: 'esp', lvm: 'lvm', raid: 'raid', swap: 'swap' };

/** A GPT type GUID by its short name, or the GUID itself. */
export function typeName(guid: string): string {
  return TYPE_NAMES[guid.toUpperCase()] ?? guid.toUpperCase();
}

const fmtMiB = (n: number): string => `${Number.isInteger(n) ? n : n.toFixed(2)} MiB`;
const numOf = (node: string): number => Number(/(\d+)$/.exec(node)?.[1] ?? NaN);

/**
 * The found table against the planned disk, partition by number, with the rules
 * the agent's verify uses: same start and size (exact, in sectors) and the type
 * GUID the executor writes. Planned partitions that are absent come back as
 * `missing` entries (drawn as placeholders), unplanned ones as `extra`.
 */
export function diffPartitions(view: FoundDisk, planned?: PlannedDisk): FoundPartition[] {
  const perMiB = MiB / view.sectorSize;
  const out: FoundPartition[] = view.partitions.map((h) => {
    const num = numOf(h.node);
    const p = planned?.partitions.find((q) => q.num === num);
    const diffs: PartitionDiff[] = [];
    if (planned && !p) diffs.push('extra');
    if (p && h.start !== p.begin * perMiB) diffs.push('start');
    if (p && h.size !== p.size * perMiB) diffs.push('size');
    if (p && h.type.toUpperCase() !== typeGuidFor(p)) diffs.push('type');
    return {
      num,
      device: p?.device ?? (planned && Number.isFinite(num) ? partitionDevice(planned.device, num) : h.node),
      node: h.node,
      begin: h.start / perMiB,
      size: h.size / perMiB,
      type: h.type.toUpperCase(),
      name: h.name ?? '',
      diffs,
    };
  });
  for (const p of planned?.partitions ?? []) {
    if (out.some((f) => f.num === p.num)) continue;
    out.push({ num: p.num, device: p.device, begin: p.begin, size: p.size, type: typeGuidFor(p), name: p.name, diffs: ['missing'] });
  }
  return out.sort((a, b) => a.begin - b.begin || a.num - b.num);
}

/** The filesystem on a device, and the array a partition belongs to. */
const fsOn = (plan: Plan, device: string): PlannedFs | undefined => plan.fss.find((f) => f.device === device);
const mdOf = (plan: Plan, device: string): PlannedMd | undefined => plan.mds.find((m) => m.members.includes(device));

/** The partition's kind for its colour. */
function kindOf(p: PlannedPartition): string {
  if (p.flags.includes('bios_grub')) return 'bios';
  if (p.flags.includes('esp')) return 'esp';
  if (p.role.startsWith('raid:') || p.flags.includes('raid')) return 'raid';
  if (p.role.startsWith('pv:') || p.flags.includes('lvm')) return 'lvm';
  if (p.role === 'configdrive') return 'cfg';
  return 'fs';
}

function freeBox(sizeMiB: number, side: string): string {
  return `<div class="seg free" data-free-mib="${esc(sizeMiB)}" data-side="${side}" style="flex:${sizeMiB} 1 0" title="${esc(`free ${fmtMiB(sizeMiB)}`)}"><span>free</span><span>${esc(fmtMiB(sizeMiB))}</span></div>`;
}

/** Boxes and free-space boxes in disk order; `end` is the disk size when known. */
function withFree(items: readonly { begin: number; size: number; html: string }[], side: string, end?: number): string {
  const out: string[] = [];
  let at = 1;
  for (const i of items) {
    if (i.begin - at >= FREE_MIN_MIB) out.push(freeBox(i.begin - at, side));
    out.push(i.html);
    at = Math.max(at, i.begin + i.size);
  }
  if (end !== undefined && end - at >= FREE_MIN_MIB) out.push(freeBox(end - at, side));
  return out.join('');
}

function plannedBox(plan: Plan, disk: PlannedDisk, p: PlannedPartition): string {
  const md = mdOf(plan, p.device);
  // A partition's mount: its own filesystem's, or that of the array it is a member of.
  const fs = fsOn(plan, p.device) ?? (md ? fsOn(plan, md.device) : undefined);
  const mount = fs?.mount ?? '';
  const what = mount ? (md ? `${mount} (md ${md.name})` : mount) : p.role;
  const title = [
    `${p.device} #${p.num} ${p.name}`, `${fmtMiB(p.size)} at ${p.begin}–${p.end} MiB`, `role ${p.role}`,
    fs ? `${fs.type}${fs.fromImage ? ' (image)' : ''} on ${fs.device}` : '', p.flags.length ? `flags ${p.flags.join(',')}` : '',
    p.guid ? `type ${p.guid}` : '', p.keepData ? 'keep data' : '',
  ].filter(Boolean).join('\n');
  return (
    `<div class="seg part k-${kindOf(p)}${p.keepData ? ' keep' : ''}" data-side="planned" data-disk="${esc(disk.device)}" data-part="${esc(p.device)}" ` +
    `data-num="${p.num}" data-role="${esc(p.role)}" data-mount="${esc(mount)}" data-fs="${esc(fs?.type ?? '')}" data-flags="${esc(p.flags.join(','))}" ` +
    `data-size-mib="${p.size}" data-begin-mib="${p.begin}" style="flex:${p.size} 1 0" title="${esc(title)}">` +
    `<span class="num">#${p.num}</span><span class="size">${esc(fmtMiB(p.size))}</span><span class="what">${esc(what)}</span>` +
    `<span class="fs">${esc([fs?.type, ...p.flags].filter(Boolean).join(' '))}</span>${p.keepData ? '<span class="badge">keep</span>' : ''}</div>`
  );
}

function diskHead(text: string, side: string): string {
  return `<div class="disk-head"><span class="side">${side}</span> ${esc(text)}</div>`;
}

/** One planned disk as a bar of its partitions (no stacking). */
export function plannedDiskBar(plan: Plan, disk: PlannedDisk): string {
  const parts = [...disk.partitions].sort((a, b) => a.begin - b.begin);
  const head = `${disk.device} (ks_spaces ${disk.name}) ${disk.size} MiB, sectors ${disk.logicalSectorSize}/${disk.physicalSectorSize}, ${disk.label}${disk.keepData ? ', keeps data' : ''}${disk.boot ? ', boot disk' : ''}`;
  return (
    `<div class="disk" data-side="planned" data-disk="${esc(disk.device)}" data-size-mib="${disk.size}">${diskHead(head, 'planned')}` +
    `<div class="bar">${withFree(parts.map((p) => ({ begin: p.begin, size: p.size, html: plannedBox(plan, disk, p) })), 'planned', disk.size)}</div></div>`
  );
}

/** Below a disk: the arrays its partitions are members of and the VGs they (or those arrays) are PVs of, with the LVs. */
export function stackingHtml(plan: Plan, disk: PlannedDisk): string {
  const onDisk = new Set(disk.partitions.map((p) => p.device));
  const mds = plan.mds.filter((m) => m.members.some((d) => onDisk.has(d)));
  const under = new Set([...onDisk, ...mds.map((m) => m.device)]);
  const vgs = plan.vgs.filter((v) => v.pvs.some((d) => under.has(d)));
  const rows: string[] = [];
  const member = (d: string): string => `<span class="${onDisk.has(d) ? 'here' : 'there'}">${esc(d)}</span>`;
  for (const m of mds) {
    const fs = fsOn(plan, m.device);
    rows.push(
      `<div class="stack md" data-md="${esc(m.name)}" data-device="${esc(m.device)}" data-mount="${esc(fs?.mount ?? '')}">` +
        `<span class="tag k-raid">RAID</span> ${esc(m.level)} <b>${esc(m.name)}</b> ${esc(m.device)} (metadata ${esc(m.metadata)}) ← ${m.members.map(member).join(' ')}` +
        `${fs ? ` → <b>${esc(fs.mount)}</b> ${esc(fs.type)}` : ''}${m.keepData ? ' <span class="badge">keep</span>' : ''}</div>`,
    );
  }
  for (const v of vgs) {
    const lvs = plan.lvs.filter((l) => l.vg === v.name);
    const boxes = lvs.map((l) => {
      const fs = fsOn(plan, l.device);
      return (
        `<div class="seg lv" data-lv="${esc(`${l.vg}/${l.name}`)}" data-mount="${esc(fs?.mount ?? '')}" data-fs="${esc(fs?.type ?? '')}" data-size-mib="${l.size}" ` +
        `style="flex:${Math.max(l.size, 1)} 1 0" title="${esc(`${l.device} ${fmtMiB(l.size)}${fs ? ` ${fs.type} ${fs.mount}` : ''}`)}">` +
        `<span class="num">${esc(l.name)}</span><span class="size">${esc(fmtMiB(l.size))}</span><span class="what">${esc(fs?.mount ?? '')}</span><span class="fs">${esc(fs?.type ?? '')}</span></div>`
      );
    });
    rows.push(
      `<div class="stack vg" data-vg="${esc(v.name)}"><div><span class="tag k-lvm">VG</span> <b>${esc(v.name)}</b> ← ${v.pvs.map(member).join(' ')}` +
        `${v.keepData ? ' <span class="badge">keep</span>' : ''}</div><div class="bar lvs">${boxes.join('') || '<span class="none">no LVs</span>'}</div></div>`,
    );
  }
  return rows.length ? `<div class="stacking">${rows.join('')}</div>` : '';
}

/** A planned disk: its bar and, below it, what is stacked on its partitions. */
export function plannedDiskHtml(plan: Plan, disk: PlannedDisk): string {
  return plannedDiskBar(plan, disk) + stackingHtml(plan, disk);
}

/**
 * A disk's partition table as read back, drawn like the planned one; with the
 * planned disk given, differences are marked (`data-diff`, red outline) and
 * planned partitions that are absent are drawn as dashed placeholders.
 */
export function foundDiskHtml(view: FoundDisk, planned?: PlannedDisk, device = planned?.device ?? ''): string {
  const parts = diffPartitions(view, planned);
  const labelDiff = planned && view.label !== planned.label ? ' data-diff="label"' : '';
  const head = `${device} label ${view.label ?? 'none'}, sectors ${view.sectorSize}, ${view.partitions.length} partitions`;
  const boxes = parts.map((f) => {
    const diff = f.diffs.join(' ');
    const kind = f.diffs.includes('missing') ? 'missing' : `k-${FOUND_KIND[typeName(f.type)] ?? 'fs'}`;
    const title = [
      `${f.node ?? f.device} #${f.num} ${f.name}`, `${fmtMiB(f.size)} at ${f.begin} MiB`, `type ${f.type}`, diff ? `differs from the plan: ${diff}` : '',
    ].filter(Boolean).join('\n');
    return {
      begin: f.begin,
      size: f.size,
      html:
        `<div class="seg part ${kind}${diff ? ' diff' : ''}" data-side="found" data-disk="${esc(device)}" data-part="${esc(f.device)}" data-node="${esc(f.node ?? '')}" ` +
        `data-num="${f.num}" data-role="${esc(typeName(f.type))}" data-mount="" data-type="${esc(f.type)}" data-size-mib="${f.size}" data-begin-mib="${f.begin}"` +
        `${diff ? ` data-diff="${esc(diff)}"` : ''} style="flex:${f.size} 1 0" title="${esc(title)}">` +
        `<span class="num">#${f.num}</span><span class="size">${esc(fmtMiB(f.size))}</span><span class="what">${esc(f.diffs.includes('missing') ? 'missing' : typeName(f.type))}</span>` +
        `<span class="fs">${esc(f.name)}</span>${diff && !f.diffs.includes('missing') ? `<span class="badge">${esc(diff)}</span>` : ''}</div>`,
    };
  });
  return (
    `<div class="disk" data-side="found" data-disk="${esc(device)}"${labelDiff}>${diskHead(head, 'found')}` +
    `<div class="bar">${withFree(boxes, 'found', planned?.size)}</div></div>`
  );
}

/** Styles for the drawings; the run report adds its own. */
export const DISK_CSS = `
.disk{margin:.4em 0}
.disk-head{font:600 .85em system-ui,sans-serif;margin:.2em 0}
.disk-head .side{display:inline-block;min-width:4.5em;padding:0 .3em;border-radius:3px;background:#e8e8e8;font-weight:400;text-transform:uppercase;font-size:.8em}
.disk[data-diff] .disk-head{color:#b00020}
.bar{display:flex;gap:2px;border:1px solid #888;border-radius:4px;padding:2px;background:#fafafa;overflow-x:auto}
.seg{min-width:4.6em;box-sizing:border-box;border-radius:3px;padding:2px 4px;font:.72em/1.25 system-ui,sans-serif;display:flex;flex-direction:column;overflow:hidden;border:1px solid rgba(0,0,0,.25)}
.seg span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.seg .num{font-weight:700}.seg .what{font-weight:600}
.seg .badge,.stack .badge{align-self:flex-start;background:#333;color:#fff;border-radius:2px;padding:0 3px;font-size:.9em}
.k-bios{background:#d9d9d9}.k-esp{background:#ffd59e}.k-raid{background:#d7c4f2}.k-lvm{background:#bfe8c4}
.k-cfg{background:#fff2a8}.k-fs,.k-linux{background:#bcd8f5}.k-swap{background:#f5c8d8}
.seg.lv{background:#dff5e1}
.seg.free{background:repeating-linear-gradient(45deg,#fff,#fff 4px,#eee 4px,#eee 8px);color:#666}
.seg.keep{outline:2px solid #2a6;outline-offset:-2px}
.seg.diff{outline:3px solid #d00020;outline-offset:-3px;background-color:#ffd6dc}
.seg.missing{background:#fff;border:2px dashed #d00020;color:#d00020}
.stacking{margin:.2em 0 .8em 1.2em;font:.8em system-ui,sans-serif}
.stack{margin:.25em 0}.stack .here{font-weight:700}.stack .there{color:#666}
.tag{display:inline-block;padding:0 .35em;border-radius:3px;font-weight:700}
.none{color:#888;padding:2px}
`;

function fsTable(plan: Plan): string {
  const rows = plan.fss.map(
    (f) => `<tr data-fs-mount="${esc(f.mount)}"><td>${esc(f.mount)}</td><td>${esc(f.device)}</td><td>${esc(f.type)}</td><td>${esc(f.label ?? '')}</td><td>${f.fromImage ? 'image' : 'mkfs'}</td><td>${f.keepData ? 'yes' : ''}</td></tr>`,
  );
  return `<table class="fss"><thead><tr><th>mount</th><th>device</th><th>type</th><th>label</th><th>source</th><th>keep</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** Every planned disk with its stacking, in plan order. */
export function planDisksHtml(plan: Plan): string {
  return plan.parteds.map((d) => `<div class="planned-disk" data-disk="${esc(d.device)}">${plannedDiskHtml(plan, d)}</div>`).join('\n');
}

/** A whole standalone page for a plan alone: disks, stacking, filesystems, bootloader, warnings. */
export function planHtmlPage(plan: Plan, title: string): string {
  const b = plan.bootloader;
  const warnings = (plan.warnings ?? []).map((w) => `<li class="warning">${esc(w.field)}: ${esc(w.message)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:1.2em;max-width:1400px}h1{font-size:1.3em}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
.warning{color:#a60}${DISK_CSS}</style></head>
<body><h1>${esc(title)}</h1>
${planDisksHtml(plan)}
<h2>Filesystems</h2>${fsTable(plan)}
<p class="bootloader">GRUB on ${esc(b.disks.join(' ') || '(none)')}; /boot ${esc(b.bootDevice)}; root ${esc(b.rootDevice)}${b.espDevice ? `; ESP ${esc(b.espDevice)}` : ''}</p>
${warnings ? `<ul>${warnings}</ul>` : ''}
</body></html>
`;
}
