// `<image>.meta.json`: the fields of one `ks_meta.image_data` entry, so the
// master can serve it as-is and the agent can verify what it downloads.
import { readFile, writeFile } from 'node:fs/promises';
import type { Compression } from '../tools/compress-file.js';

export type ImageContainer = 'raw' | Compression;

export interface ImageMeta {
  uri: string;
  format: 'ext4';
  container: ImageContainer;
  /** Bytes of the file as downloaded (compressed). */
  size: number;
  /** Bytes of the filesystem once decompressed. */
  raw_size: number;
  /** Digests of the file as downloaded. */
  md5: string;
  sha256: string;
  /** Digests of the decompressed filesystem (what lands on the device). */
  raw_md5: string;
  raw_sha256: string;
}

export async function writeImageMeta(path: string, meta: ImageMeta): Promise<void> {
  await writeFile(path, JSON.stringify(meta, null, 2) + '\n');
}

export async function readImageMeta(path: string): Promise<ImageMeta> {
  return JSON.parse(await readFile(path, 'utf8')) as ImageMeta;
}
