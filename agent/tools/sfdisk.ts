// sfdisk argv lives here only: the partition table as JSON, in logical sectors.
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';

export interface SfdiskPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  attrs?: string;
}

export interface SfdiskTable {
  label: string;
  device: string;
  unit: string;
  sectorsize?: number;
  firstlba?: number;
  lastlba?: number;
  partitions: SfdiskPartition[];
}

export function dumpJsonArgv(device: string): string[] {
  return ['sfdisk', '--json', device];
}

/** The table on `device`, or null when it holds none. */
export async function readPartitionTable(ctx: Ctx, device: string): Promise<SfdiskTable | null> {
  const r = await ctx.runner.run(dumpJsonArgv(device), {
    readOnly: true,
    okExitCodes: [0, 1],
    timeoutMs: 30_000,
    signal: ctx.signal,
  });
  if (r.exitCode !== 0 || !r.stdout.trim()) {
    // "does not contain a recognized partition table" is an answer, not a failure.
    if (/recogni[sz]ed partition table/i.test(r.stderr) || !r.stdout.trim()) return null;
    throw new ForgeError('TOOL_FAILED', `sfdisk could not read ${device}: ${r.stderr.trim()}`, { command: r.argv });
  }
  const doc = JSON.parse(r.stdout) as { partitiontable: SfdiskTable };
  const t = doc.partitiontable;
  return { ...t, partitions: t.partitions ?? [] };
}

/** Partition number from a kernel node name (/dev/sda3, /dev/nvme0n1p3, /dev/loop0p3 → 3). */
export function partitionNumber(node: string): number {
  const m = /(\d+)$/.exec(node);
  return m ? Number(m[1]) : NaN;
}
