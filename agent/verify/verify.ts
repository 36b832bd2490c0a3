// Reads what is really on the disks (sfdisk/blkid/LVM reports/mdadm) and compares
// it with the plan, item by item. Read-only: safe on a provisioned node, in the
// lab VM before reboot, and from the host on attached images.
import type { Ctx } from '../core/context.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { sectorRange } from '../plan/geometry.js';
import { kernelName } from '../tools/sysfs.js';
import { typeGuidFor, wantsLegacyBoot } from '../plan/type-guid.js';
import { probeSignature } from '../tools/blkid.js';
import { listLvs, listPvs, listVgs } from '../tools/lvm.js';
import { mdDetail } from '../tools/mdadm.js';
import { partitionNumber, readPartitionTable } from '../tools/sfdisk.js';
import { atLeast, caseInsensitive, compareItem, roundedUp } from './compare.js';
import type { VerifyItem, VerifyOptions, VerifyResult } from './types.js';

/** Kernel name for comparisons (/dev/md/Boot and /dev/md127 are the same array). */
async function canonical(path: string): Promise<string> {
  return (await kernelName(path)) ?? path.replace(/^\/dev\//, '');
}

async function canonicalSet(paths: readonly string[]): Promise<string[]> {
  return (await Promise.all(paths.map(canonical))).sort();
}

async function verifyDisk(ctx: Ctx, disk: PlannedDisk): Promise<VerifyItem[]> {
  const table = await readPartitionTable(ctx, disk.device);
  const items: VerifyItem[] = [
    compareItem(
      'disk',
      disk.device,
      { label: 'gpt', sectorSize: disk.logicalSectorSize },
      table ? { label: table.label, sectorSize: table.sectorsize ?? null } : null,
    ),
  ];
  const found = new Map((table?.partitions ?? []).map((p) => [partitionNumber(p.node), p]));
  for (const p of disk.partitions) {
    const r = sectorRange(p, disk.logicalSectorSize);
    const have = found.get(p.num);
    found.delete(p.num);
    // A kept entry is never rewritten: its name, type and attributes are whatever the
    // installer before us wrote (fuel-agent: "primary", Linux data), so only its place counts.
    const label = p.keepData ? {} : { type: typeGuidFor(p), name: p.name, legacyBoot: wantsLegacyBoot(p) };
    items.push(
      compareItem(
        'partition',
        p.device,
        { start: r.start, size: r.size, ...label },
        have
          ? {
              start: have.start,
              size: have.size,
              type: have.type.toUpperCase(),
              name: have.name ?? '',
              legacyBoot: /LegacyBIOSBootable/.test(have.attrs ?? ''),
            }
          : null,
      ),
    );
  }
  for (const [, extra] of found) {
    items.push(compareItem('partition', extra.node, null, { start: extra.start, size: extra.size, type: extra.type }));
  }
  return items;
}

async function verifyMds(ctx: Ctx, plan: Plan): Promise<VerifyItem[]> {
  const items: VerifyItem[] = [];
  for (const md of plan.mds) {
    const d = await mdDetail(ctx, md.device);
    items.push(
      compareItem(
        'md',
        md.device,
        { level: md.level, metadata: md.metadata, members: await canonicalSet(md.members) },
        d ? { level: d.level, metadata: d.metadata, members: await canonicalSet(d.members) } : null,
      ),
    );
  }
  return items;
}

async function verifyLvm(ctx: Ctx, plan: Plan): Promise<VerifyItem[]> {
  if (!plan.pvs.length && !plan.vgs.length && !plan.lvs.length) return [];
  const items: VerifyItem[] = [];
  const pvRows = await Promise.all((await listPvs(ctx)).map(async (r) => ({ ...r, key: await canonical(r.pv_name) })));
  const vgRows = await listVgs(ctx);
  const lvRows = await listLvs(ctx);
  for (const pv of plan.pvs) {
    const key = await canonical(pv.device);
    const row = pvRows.find((r) => r.key === key);
    items.push(
      compareItem(
        'pv',
        pv.device,
        { vg: pv.vg, metadataSize: pv.metadataSize },
        row ? { vg: row.vg_name, metadataSize: Number(row.pv_mda_size) } : null,
        // LVM rounds the metadata area up to its own alignment.
        { metadataSize: atLeast },
      ),
    );
  }
  for (const vg of plan.vgs) {
    const row = vgRows.find((r) => r.vg_name === vg.name);
    const members = pvRows.filter((r) => r.vg_name === vg.name).map((r) => r.key).sort();
    items.push(
      compareItem('vg', vg.name, { pvs: await canonicalSet(vg.pvs) }, row ? { pvs: members, size: Number(row.vg_size) } : null),
    );
  }
  for (const lv of plan.lvs) {
    const row = lvRows.find((r) => r.vg_name === lv.vg && r.lv_name === lv.name);
    const extent = Number(vgRows.find((r) => r.vg_name === lv.vg)?.vg_extent_size ?? 4);
    items.push(
      compareItem('lv', `${lv.vg}/${lv.name}`, { size: lv.size }, row ? { size: Number(row.lv_size) } : null, {
        size: roundedUp(() => extent),
      }),
    );
  }
  return items;
}

async function verifyFilesystems(ctx: Ctx, plan: Plan, opts: VerifyOptions): Promise<VerifyItem[]> {
  const items: VerifyItem[] = [];
  for (const fs of plan.fss) {
    if (fs.fromImage && opts.skipImageFilesystems) {
      items.push({ kind: 'fs', id: fs.device, expected: { type: fs.type, mount: fs.mount }, actual: null, ok: true, mismatches: [], note: 'filled by an image later' });
      continue;
    }
    const tags = await probeSignature(ctx, fs.device);
    // An image's own label is its business; mkfs-made and kept ones carry the planned label.
    const checkLabel = fs.label !== undefined && !fs.fromImage;
    const expected: Record<string, unknown> = { type: fs.type, ...(checkLabel ? { label: fs.label } : {}) };
    const actual = tags.TYPE ? { type: tags.TYPE, label: tags.LABEL ?? '' } : null;
    items.push(compareItem('fs', fs.device, expected, actual, fs.type === 'vfat' ? { label: caseInsensitive } : {}));
  }
  return items;
}

/**
 * Partitions planned to stay raw (Ceph OSD data and journals: `file_system: "none"`)
 * must carry no signature: ceph-disk and udev would take a stale filesystem left
 * there for a real one. Only plain ones: flagged partitions (bios_grub, ESP, LVM,
 * RAID), PVs, md members, the configdrive and kept data all hold something by design.
 */
async function verifyRawPartitions(ctx: Ctx, plan: Plan): Promise<VerifyItem[]> {
  const used = new Set([
    ...plan.fss.map((f) => f.device),
    ...plan.pvs.map((p) => p.device),
    ...plan.mds.flatMap((m) => m.members),
    ...(plan.configdrive ? [plan.configdrive.device] : []),
  ]);
  const items: VerifyItem[] = [];
  for (const p of plan.parteds.flatMap((d) => d.partitions)) {
    if (p.role !== 'none' || p.flags.length > 0 || p.keepData || used.has(p.device)) continue;
    const tags = await probeSignature(ctx, p.device);
    items.push(compareItem('fs', p.device, { type: null }, { type: tags.TYPE ?? null }));
  }
  return items;
}

export async function verifyPlan(ctx: Ctx, plan: Plan, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const items: VerifyItem[] = [];
  for (const disk of plan.parteds) items.push(...(await verifyDisk(ctx, disk)));
  items.push(...(await verifyMds(ctx, plan)));
  items.push(...(await verifyLvm(ctx, plan)));
  items.push(...(await verifyFilesystems(ctx, plan, opts)));
  items.push(...(await verifyRawPartitions(ctx, plan)));
  return { ok: items.every((i) => i.ok), items };
}
