// argv of the file compressors (gzip, xz, zstd) used to pack built artifacts.
// Each writes `<file><suffix>` beside the input and keeps the input.
import type { Ctx } from '../core/context.js';

export type Compression = 'gzip' | 'xz' | 'zstd';

export const COMPRESSION_SUFFIX: Readonly<Record<Compression, string>> = { gzip: '.gz', xz: '.xz', zstd: '.zst' };

export function compressFileArgv(kind: Compression, file: string, level?: number): string[] {
  switch (kind) {
    case 'gzip':
      // -n: no name/mtime in the header, so identical inputs give identical outputs.
      return ['gzip', '-k', '-f', '-n', `-${level ?? 6}`, file];
    case 'xz':
      return ['xz', '-k', '-f', '-T0', `-${level ?? 6}`, file];
    case 'zstd':
      return ['zstd', '-q', '-k', '-f', '-T0', `-${level ?? 10}`, file, '-o', `${file}.zst`];
  }
}

export async function compressFile(ctx: Ctx, kind: Compression, file: string, level?: number): Promise<string> {
  await ctx.run(compressFileArgv(kind, file, level), { timeoutMs: 60 * 60_000 });
  return file + COMPRESSION_SUFFIX[kind];
}

/** Decompresses `<file>` (ending in the kind's suffix) to the same path without the suffix. */
export function decompressFileArgv(kind: Compression, file: string): string[] {
  switch (kind) {
    case 'gzip':
      return ['gzip', '-d', '-k', '-f', file];
    case 'xz':
      return ['xz', '-d', '-k', '-f', '-T0', file];
    case 'zstd':
      return ['zstd', '-q', '-d', '-k', '-f', file, '-o', file.slice(0, -COMPRESSION_SUFFIX.zstd.length)];
  }
}

export async function decompressFile(ctx: Ctx, kind: Compression, file: string): Promise<string> {
  const suffix = COMPRESSION_SUFFIX[kind];
  await ctx.run(decompressFileArgv(kind, file), { timeoutMs: 30 * 60_000 });
  return file.endsWith(suffix) ? file.slice(0, -suffix.length) : file;
}
