// blkid argv lives here only. Low-level probing (-p) reads the device itself, not
// blkid's cache, which may still describe what was there before an image was written.
import type { Ctx } from '../core/context.js';

export function blkidProbeArgv(device: string): string[] {
  return ['blkid', '-p', '-o', 'export', device];
}

/** Signature tags (TYPE, UUID, PTTYPE, ...) found on the device; empty when there is none. */
export async function probeSignature(ctx: Ctx, device: string): Promise<Record<string, string>> {
  // Exit 2: nothing recognised.
  const r = await ctx.runner.run(blkidProbeArgv(device), { readOnly: true, okExitCodes: [0, 2], timeoutMs: 60_000 });
  const tags: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) tags[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return tags;
}

export async function readFsUuid(ctx: Ctx, device: string): Promise<string | undefined> {
  return (await probeSignature(ctx, device)).UUID;
}
