// sgdisk argv lives here only.
import type { Ctx } from '../core/context.js';

/** Move the backup GPT header to the real end of the disk (after writing a smaller whole-disk image). */
export function sgdiskMoveBackupArgv(disk: string): string[] {
  return ['sgdisk', '-e', disk];
}

export async function moveBackupGpt(ctx: Ctx, disk: string): Promise<void> {
  await ctx.run(sgdiskMoveBackupArgv(disk), { timeoutMs: 120_000 });
}

// Partitioning (agent/partition). One sgdisk call per disk: sgdisk applies its
// options in memory and writes once at the end, so a bad option leaves the old
// table intact instead of half a new one.

export interface SgdiskNewPartition {
  num: number;
  /** First and last sector (inclusive), in the device's logical sectors. */
  startSector: number;
  endSector: number;
  typeGuid: string;
  name: string;
  /** Set the legacy-BIOS-bootable attribute (bit 2), parted's `legacy_boot`. */
  legacyBoot: boolean;
}

export interface SgdiskEdit {
  /** Start from an empty GPT (`--clear`); false keeps the existing table (keep_data disks). */
  newTable: boolean;
  /** Partition numbers to delete first. */
  delete: readonly number[];
  create: readonly SgdiskNewPartition[];
}

/** Destroy GPT (both headers) and MBR structures. */
export function zapArgv(device: string): string[] {
  return ['sgdisk', '--zap-all', device];
}

export function editArgv(device: string, edit: SgdiskEdit): string[] {
  // Alignment 1: our offsets are already MiB-aligned in logical sectors; sgdisk's
  // default (2048 sectors) would move starts on 4Kn disks (8 MiB there).
  const argv = ['sgdisk', '--set-alignment=1'];
  if (edit.newTable) argv.push('--clear');
  // A kept table's backup header goes back to the real end of the disk.
  else argv.push('--move-second-header');
  for (const n of edit.delete) argv.push(`--delete=${n}`);
  for (const p of edit.create) {
    argv.push(`--new=${p.num}:${p.startSector}:${p.endSector}`);
    argv.push(`--typecode=${p.num}:${p.typeGuid}`);
    argv.push(`--change-name=${p.num}:${p.name}`);
    if (p.legacyBoot) argv.push(`--attributes=${p.num}:set:2`);
  }
  argv.push(device);
  return argv;
}
