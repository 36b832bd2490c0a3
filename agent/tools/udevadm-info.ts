// `udevadm info --query=property` for one device: its udev links (by-id, by-path),
// serial, WWN and model. Without a udev database (no udevd, as on a bare host)
// only kernel properties come back; callers fall back to lsblk's columns.
import type { Ctx } from '../core/context.js';

export function udevPropertiesArgv(device: string): string[] {
  return ['udevadm', 'info', '--query=property', `--name=${device}`];
}

export function parseUdevProperties(stdout: string): Record<string, string> {
  const props: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) props[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return props;
}

/** Best effort: undefined when udevadm is missing or fails. */
export async function udevProperties(ctx: Ctx, device: string): Promise<Record<string, string> | undefined> {
  try {
    const r = await ctx.run(udevPropertiesArgv(device), { readOnly: true, timeoutMs: 30_000 });
    return parseUdevProperties(r.stdout);
  } catch (e) {
    ctx.log.debug('udevadm.info.failed', { device, error: String(e) });
    return undefined;
  }
}
