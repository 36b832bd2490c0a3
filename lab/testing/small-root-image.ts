// A small real root filesystem for VM tests that write an image without booting
// it: ext4 made from a directory, gzip'd, with the image builder's
// <image>.meta.json beside it (what the node's mock master serves).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../../agent/core/runner.js';
import { digestFile } from '../../agent/host/image/checksums.js';
import type { ImageMeta } from '../../agent/host/image/meta.js';

/** Packs `tree` as `<imagesDir>/<name>` (an .img.gz name) of `sizeMiB` raw, with its metadata; the file and metadata. */
export async function publishSmallRootImage(
  runner: Runner,
  o: { tree: string; imagesDir: string; name: string; sizeMiB: number },
): Promise<{ path: string; meta: ImageMeta }> {
  const raw = join(o.imagesDir, o.name.replace(/\.gz$/, ''));
  await runner.run(['mkfs.ext4', '-q', '-F', '-L', 'root', '-d', o.tree, raw, `${o.sizeMiB}M`]);
  const r = await digestFile(raw);
  await runner.run(['gzip', '-1', raw]);
  const f = await digestFile(`${raw}.gz`);
  const meta = { format: 'ext4', container: 'gzip', size: f.size, md5: f.md5, sha256: f.sha256, raw_size: r.size, raw_md5: r.md5, raw_sha256: r.sha256 } as const;
  writeFileSync(join(o.imagesDir, `${o.name}.meta.json`), JSON.stringify(meta));
  return { path: `${raw}.gz`, meta: { uri: o.name, ...meta } };
}
