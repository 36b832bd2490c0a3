// blockdev argv lives here only: the kernel's view of a block device's geometry,
// and the BLKRRPART fallback when partprobe cannot re-read a table.
import type { Ctx } from '../core/context.js';

export interface DeviceGeometry {
  /** Size in bytes. */
  size: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  readOnly: boolean;
}

export function blockdevProbeArgv(device: string): string[] {
  // blockdev prints one line per query, in argument order.
  return ['blockdev', '--getsize64', '--getss', '--getpbsz', '--getro', device];
}

export function parseBlockdevProbe(stdout: string): DeviceGeometry {
  const [size, lss, pss, ro] = stdout.trim().split(/\s+/).map((s) => Number(s));
  return {
    size: size ?? NaN,
    logicalSectorSize: lss ?? NaN,
    physicalSectorSize: pss ?? NaN,
    readOnly: ro === 1,
  };
}

export async function probeGeometry(ctx: Ctx, device: string): Promise<DeviceGeometry> {
  const r = await ctx.run(blockdevProbeArgv(device), { readOnly: true, timeoutMs: 30_000 });
  return parseBlockdevProbe(r.stdout);
}

export function rereadPtArgv(device: string): string[] {
  return ['blockdev', '--rereadpt', device];
}
