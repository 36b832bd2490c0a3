// sfdisk argv lives here only: the partition table as JSON, in logical sectors.
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { parseJsonAs } from '../core/parse-json.js';

const partitionSchema = z.looseObject({
  node: z.string(),
  start: z.number(),
  size: z.number(),
  type: z.string(),
  uuid: z.string().exactOptional(),
  name: z.string().exactOptional(),
  attrs: z.string().exactOptional(),
});

const tableSchema = z.looseObject({
  label: z.string(),
  device: z.string(),
  unit: z.string(),
  sectorsize: z.number().exactOptional(),
  firstlba: z.number().exactOptional(),
  lastlba: z.number().exactOptional(),
  // sfdisk leaves the key out for a table without partitions.
  partitions: z.array(partitionSchema).default([]),
});

/** `sfdisk --json` output (also read by the lab's host-side checks). */
export const sfdiskOutput = z.object({ partitiontable: tableSchema });

export type SfdiskPartition = z.output<typeof partitionSchema>;
export type SfdiskTable = z.output<typeof tableSchema>;

export function dumpJsonArgv(device: string): string[] {
  return ['sfdisk', '--json', device];
}

/** The table on `device`, or null when it holds none. */
export async function readPartitionTable(ctx: Ctx, device: string): Promise<SfdiskTable | null> {
  const r = await ctx.run(dumpJsonArgv(device), {
    readOnly: true,
    okExitCodes: [0, 1],
    timeoutMs: 30_000,
  });
  if (r.exitCode !== 0 || !r.stdout.trim()) {
    // "does not contain a recognized partition table" is an answer, not a failure.
    if (/recogni[sz]ed partition table/i.test(r.stderr) || !r.stdout.trim()) return null;
    throw new ForgeError('TOOL_FAILED', `sfdisk could not read ${device}: ${r.stderr.trim()}`, { command: r.argv });
  }
  return parseJsonAs(sfdiskOutput, r.stdout, { command: r.argv }).partitiontable;
}

/** Partition number from a kernel node name (/dev/sda3, /dev/nvme0n1p3, /dev/loop0p3 → 3). */
export function partitionNumber(node: string): number {
  const m = /(\d+)$/.exec(node);
  return m ? Number(m[1]) : NaN;
}
