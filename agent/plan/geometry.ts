// MiB ↔ logical sectors. The plan speaks MiB; tables speak the device's logical
// sectors (512 or 4096), so every conversion goes through here.
import type { PlannedDisk, PlannedPartition } from './types.js';

export const MiB = 1024 * 1024;

export interface SectorRange {
  start: number;
  /** Inclusive last sector, as sgdisk wants it. */
  end: number;
  size: number;
}

export function sectorRange(p: Pick<PlannedPartition, 'begin' | 'end'>, logicalSectorSize: number): SectorRange {
  const perMiB = MiB / logicalSectorSize;
  const start = p.begin * perMiB;
  const size = (p.end - p.begin) * perMiB;
  return { start, end: start + size - 1, size };
}

/** Bytes the backup GPT (header + 128×128-byte entries) needs at the end of the disk. */
export function backupGptBytes(logicalSectorSize: number): number {
  return logicalSectorSize + Math.ceil(16384 / logicalSectorSize) * logicalSectorSize;
}

/** Smallest device size (bytes) that holds the disk's planned partitions and the backup GPT. */
export function requiredBytes(disk: Pick<PlannedDisk, 'partitions' | 'logicalSectorSize'>): number {
  const lastEnd = Math.max(1, ...disk.partitions.map((p) => p.end));
  return lastEnd * MiB + backupGptBytes(disk.logicalSectorSize);
}
