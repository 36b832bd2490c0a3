// Step 3: write each disk's GPT in a single sgdisk call. Fresh disks get a new
// table; keep_data disks keep theirs: only non-kept partitions are deleted and
// re-created, so kept ones never move. Leaves: the planned table on every disk.
import type { Ctx } from '../core/context.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { editArgv, type SgdiskEdit } from '../tools/sgdisk.js';
import { partitionNumber, readPartitionTable } from '../tools/sfdisk.js';
import { sectorRange } from '../plan/geometry.js';
import { typeGuidFor, wantsLegacyBoot } from '../plan/type-guid.js';

export async function diskEdit(ctx: Ctx, disk: PlannedDisk): Promise<SgdiskEdit> {
  const create = disk.partitions
    .filter((p) => !p.keepData)
    .map((p) => {
      const r = sectorRange(p, disk.logicalSectorSize);
      return {
        num: p.num,
        startSector: r.start,
        endSector: r.end,
        typeGuid: typeGuidFor(p),
        name: p.name,
        legacyBoot: wantsLegacyBoot(p),
      };
    });
  if (!disk.keepData) return { newTable: true, delete: [], create };
  const kept = new Set(disk.partitions.filter((p) => p.keepData).map((p) => p.num));
  const table = await readPartitionTable(ctx, disk.device);
  const existing = (table?.partitions ?? []).map((p) => partitionNumber(p.node));
  return { newTable: false, delete: existing.filter((n) => !kept.has(n)).sort((a, b) => a - b), create };
}

export async function createPartitions(ctx: Ctx, plan: Plan): Promise<void> {
  for (const disk of plan.parteds) {
    const edit = await diskEdit(ctx, disk);
    ctx.log.info('partition.table', { device: disk.device, newTable: edit.newTable, delete: edit.delete, create: edit.create.length });
    await ctx.run(editArgv(disk.device, edit), { timeoutMs: 120_000 });
  }
}
