// qemu-img argv lives here only: inspect and convert whole-disk qcow2 images.
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { parseJsonAs } from '../core/parse-json.js';

export interface QemuImgInfo {
  format: string;
  virtualSize: number;
}

export function qemuImgInfoArgv(file: string): string[] {
  return ['qemu-img', 'info', '--output=json', file];
}

export async function qemuImgInfo(ctx: Ctx, file: string): Promise<QemuImgInfo> {
  const r = await ctx.run(qemuImgInfoArgv(file), { readOnly: true, timeoutMs: 60_000 });
  const j = parseJsonAs(z.looseObject({ format: z.string().optional(), 'virtual-size': z.number().optional() }), r.stdout, { command: r.argv });
  return { format: j.format ?? 'unknown', virtualSize: j['virtual-size'] ?? 0 };
}

/**
 * Convert onto an existing block device: -n (the target exists, do not create it),
 * source format pinned so a crafted image cannot pick a driver, cache bypass on the
 * target so the data is on disk when qemu-img exits.
 */
export function qemuImgConvertArgv(src: string, device: string, srcFormat = 'qcow2'): string[] {
  return ['qemu-img', 'convert', '-n', '-f', srcFormat, '-O', 'raw', '-t', 'none', src, device];
}

export async function qemuImgConvert(ctx: Ctx, src: string, device: string, srcFormat = 'qcow2'): Promise<void> {
  await ctx.run(qemuImgConvertArgv(src, device, srcFormat), { timeoutMs: 4 * 3_600_000 });
}
