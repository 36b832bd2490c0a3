// Step 1 (read-only): the plan was made from an inventory; before anything is
// written, check every planned disk is still there with the same geometry, big
// enough for its partitions, writable, not in use, and that every keep_data
// partition is still exactly where the plan keeps it. Leaves the disks untouched.
import type { Ctx } from '../core/context.js';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import type { Inventory } from '../inventory/types.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { probeGeometry, type DeviceGeometry } from '../tools/blockdev.js';
import { partitionNumber, readPartitionTable } from '../tools/sfdisk.js';
import { MiB, requiredBytes, sectorRange } from '../plan/geometry.js';
import { sysfsGraph, type BlockGraph } from '../tools/sysfs.js';

export interface RecheckedDisk {
  disk: PlannedDisk;
  geometry: DeviceGeometry;
}

async function checkDisk(ctx: Ctx, disk: PlannedDisk, inventory: Inventory | undefined): Promise<{ problems: ForgeError[]; geometry?: DeviceGeometry }> {
  const problems: ForgeError[] = [];
  const bad = (msg: string, details: Record<string, unknown>): void => {
    problems.push(new ForgeError('DISK_CHANGED', `${disk.device} (${disk.name}): ${msg}`, { details: { device: disk.device, ...details } }));
  };
  let g: DeviceGeometry;
  try {
    g = await probeGeometry(ctx, disk.device);
  } catch (e) {
    bad('is no longer present', { cause: e instanceof Error ? e.message : String(e) });
    return { problems };
  }
  // A detached loop device (or a pulled disk behind a stale node) reads as size 0.
  if (!(g.size > 0)) {
    bad('is no longer present (size 0)', { actualBytes: g.size });
    return { problems };
  }
  const invDisk = inventory?.disks.find((d) => d.path === disk.device);
  if (invDisk && invDisk.size !== g.size) {
    bad(`size changed from ${invDisk.size} to ${g.size} bytes since the inventory`, { expectedBytes: invDisk.size, actualBytes: g.size });
  } else if (!invDisk && Math.abs(g.size / MiB - disk.size) >= 1) {
    bad(`size changed from ${disk.size} MiB to ${(g.size / MiB).toFixed(1)} MiB since planning`, { expectedMiB: disk.size, actualBytes: g.size });
  }
  if (g.size < requiredBytes(disk)) {
    bad(`is smaller than planned: ${g.size} bytes, the partitions need ${requiredBytes(disk)}`, { actualBytes: g.size, requiredBytes: requiredBytes(disk) });
  }
  if (g.logicalSectorSize !== disk.logicalSectorSize) {
    bad(`logical sector size is ${g.logicalSectorSize}, planned for ${disk.logicalSectorSize}`, { expected: disk.logicalSectorSize, actual: g.logicalSectorSize });
  }
  if (g.readOnly) bad('is read-only', {});
  return { problems, geometry: g };
}

async function checkKept(ctx: Ctx, disk: PlannedDisk): Promise<ForgeError[]> {
  const kept = disk.partitions.filter((p) => p.keepData);
  if (!kept.length) return [];
  const table = await readPartitionTable(ctx, disk.device);
  const problems: ForgeError[] = [];
  for (const p of kept) {
    const want = sectorRange(p, disk.logicalSectorSize);
    const have = table?.partitions.find((x) => partitionNumber(x.node) === p.num);
    if (!table || table.label !== 'gpt' || !have || have.start !== want.start || have.size !== want.size) {
      problems.push(
        new ForgeError(
          'DISK_CHANGED',
          `${disk.device}: keep_data partition ${p.num} (${p.role}) is not where the plan keeps it ` +
            `(want start ${want.start}, size ${want.size} sectors; found ${have ? `start ${have.start}, size ${have.size}` : 'nothing'})`,
          { details: { device: disk.device, partition: p.num, expected: want, actual: have ?? null } },
        ),
      );
    }
  }
  return problems;
}

/** Devices the run will destroy (whole non-keep disks, non-kept partitions) must not be in use. */
async function checkNotInUse(g: BlockGraph, disks: readonly PlannedDisk[]): Promise<ForgeError[]> {
  const inUse = await g.devicesInUse();
  if (!inUse.size) return [];
  const problems: ForgeError[] = [];
  for (const disk of disks) {
    const name = await g.kernelName(disk.device);
    if (!name) continue;
    const keptNums = new Set(disk.partitions.filter((p) => p.keepData).map((p) => p.num));
    const parts = (await g.partitionsOf(name)).filter((n) => !keptNums.has(partitionNumber(n)));
    const doomed = disk.keepData ? parts : [name, ...parts];
    for (const dev of [...doomed, ...(await g.holdersClosure(doomed))]) {
      const what = inUse.get(dev);
      if (what) {
        problems.push(
          new ForgeError('DEVICE_NOT_READY', `${disk.device}: /dev/${dev} is in use (${what}); unmount it before provisioning`, {
            details: { device: `/dev/${dev}`, use: what },
          }),
        );
      }
    }
  }
  return problems;
}

export async function recheckPlan(
  ctx: Ctx,
  plan: Plan,
  inventory?: Inventory,
  g: BlockGraph = sysfsGraph,
): Promise<RecheckedDisk[]> {
  const problems: ForgeError[] = [];
  const out: RecheckedDisk[] = [];
  for (const disk of plan.parteds) {
    const { problems: p, geometry } = await checkDisk(ctx, disk, inventory);
    problems.push(...p);
    if (geometry && !p.length) {
      problems.push(...(await checkKept(ctx, disk)));
      out.push({ disk, geometry });
    }
  }
  problems.push(...(await checkNotInUse(g, plan.parteds)));
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) throw new ForgeErrors(problems[0]!.code, problems);
  ctx.log.info('partition.recheck.ok', { disks: out.map((d) => d.disk.device) });
  return out;
}
