// argv for building and inspecting ext4 filesystem IMAGE FILES (not devices):
// mkfs.ext4 -d populates the filesystem from a directory with no mount, so the
// build works in containers; resize2fs shrinks it; e2fsck/debugfs check and read it.
import type { Ctx } from '../core/context.js';

export interface MkfsFromDirOptions {
  image: string;
  sourceDir: string;
  /** Size in 1 KiB blocks. */
  sizeKiB: number;
  label?: string;
  uuid?: string;
}

export function mkfsExt4FromDirArgv(o: MkfsFromDirOptions): string[] {
  return [
    'mkfs.ext4',
    '-F',
    '-q',
    // Room for a root filesystem's many small files.
    '-i',
    '16384',
    // No reserved blocks in an image that is grown on the node anyway.
    '-m',
    '1',
    ...(o.label ? ['-L', o.label] : []),
    ...(o.uuid ? ['-U', o.uuid] : []),
    '-E',
    'root_owner=0:0',
    '-d',
    o.sourceDir,
    o.image,
    `${o.sizeKiB}k`,
  ];
}

/** e2fsck exit codes 0 (clean) and 1 (fixed) are both fine after a build. */
export function e2fsckFixArgv(image: string): string[] {
  return ['e2fsck', '-f', '-y', image];
}

export function e2fsckCheckArgv(image: string): string[] {
  return ['e2fsck', '-f', '-n', image];
}

/** `size` undefined = shrink to the minimum (-M). */
export function resize2fsArgv(image: string, sizeKiB?: number): string[] {
  return sizeKiB === undefined ? ['resize2fs', '-M', image] : ['resize2fs', image, `${sizeKiB}K`];
}

export function dumpe2fsHeaderArgv(image: string): string[] {
  return ['dumpe2fs', '-h', image];
}

export function debugfsArgv(image: string, request: string): string[] {
  return ['debugfs', '-R', request, image];
}

export interface Ext4Geometry {
  blockCount: number;
  blockSize: number;
  freeBlocks: number;
}

export function parseDumpe2fsHeader(text: string): Ext4Geometry {
  const num = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m?.[1] === undefined ? NaN : Number(m[1]);
  };
  return { blockCount: num('Block count'), blockSize: num('Block size'), freeBlocks: num('Free blocks') };
}

export async function ext4Geometry(ctx: Ctx, image: string): Promise<Ext4Geometry> {
  const r = await ctx.run(dumpe2fsHeaderArgv(image), { readOnly: true, timeoutMs: 60_000 });
  return parseDumpe2fsHeader(r.stdout);
}

/** Runs a debugfs request (`ls -l /boot`, `cat /etc/x`, `stat /usr/sbin/sshd`) against an image file. */
export async function debugfs(ctx: Ctx, image: string, request: string): Promise<string> {
  const r = await ctx.run(debugfsArgv(image, request), { readOnly: true, timeoutMs: 60_000 });
  return r.stdout;
}
