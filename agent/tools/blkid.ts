// blkid argv lives here only. Low-level probing (-p) reads the device itself, not
// blkid's cache, which may still describe what was there before (no udev, or an
// image just written).
import type { Ctx } from '../core/context.js';

export function blkidProbeArgv(device: string): string[] {
  return ['blkid', '-p', '-o', 'export', device];
}

/** KEY=value pairs blkid printed (TYPE, LABEL, UUID, PART_ENTRY_*). */
export function parseExport(stdout: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) tags[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return tags;
}

/** Signature tags (TYPE, UUID, PTTYPE, ...) found on the device; empty when there is none. */
export async function probeSignature(ctx: Ctx, device: string): Promise<Record<string, string>> {
  // Exit 2: nothing recognised. That is a fact to compare, not a failure.
  const r = await ctx.run(blkidProbeArgv(device), {
    readOnly: true,
    okExitCodes: [0, 2],
    timeoutMs: 60_000,
  });
  return r.exitCode === 0 ? parseExport(r.stdout) : {};
}

