// Packs a directory as a compressed newc cpio archive (an initramfs part).
// The kernel unpacks concatenated archives in order, so the big Debian root and
// the small agent overlay are packed separately and joined.
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Ctx } from '../../core/context.js';
import { type Compression, compressFile } from '../../tools/compress-file.js';
import { cpioCreate } from '../../tools/cpio.js';

/** Every path under `dir`, parents before children, relative, sorted (reproducible archives). */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      out.push(relative(dir, p));
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

/** Writes `<archive><suffix>` and removes the uncompressed archive; returns the compressed path. */
export async function packCpio(ctx: Ctx, dir: string, archive: string, compression: Compression, level?: number): Promise<string> {
  await rm(archive, { force: true });
  await cpioCreate(ctx, dir, await listTree(dir), archive);
  const out = await compressFile(ctx, compression, archive, level);
  await rm(archive, { force: true });
  return out;
}
