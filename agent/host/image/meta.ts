// `<image>.meta.json`: the fields of one `ks_meta.image_data` entry, so the
// master can serve it as-is and the agent can verify what it downloads.
import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseJsonAs } from '../../core/parse-json.js';

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));

export const imageMetaSchema = z.object({
  uri: z.string(),
  format: z.literal('ext4'),
  container: z.enum(['raw', 'gzip', 'xz', 'zstd']),
  /** Bytes of the file as downloaded (compressed). */
  size: z.number().int().nonnegative(),
  /** Bytes of the filesystem once decompressed. */
  raw_size: z.number().int().nonnegative(),
  /** Digests of the file as downloaded. */
  md5: hex(32),
  sha256: hex(64),
  /** Digests of the decompressed filesystem (what lands on the device). */
  raw_md5: hex(32),
  raw_sha256: hex(64),
});

export type ImageMeta = z.infer<typeof imageMetaSchema>;

export async function writeImageMeta(path: string, meta: ImageMeta): Promise<void> {
  await writeFile(path, JSON.stringify(meta, null, 2) + '\n');
}

export async function readImageMeta(path: string): Promise<ImageMeta> {
  return parseJsonAs(imageMetaSchema, await readFile(path, 'utf8'), { source: path, code: 'BUILD_FAILED' });
}
