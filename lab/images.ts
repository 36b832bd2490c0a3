// The images a lab serves: the builder's image and metadata, hard-linked (copied
// across filesystems) into the lab's own directory — the one the image server
// container mounts — plus variants for bad paths, such as an image whose
// published metadata does not match its content.
import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { BuiltImage } from '../agent/host/image/build-image.js';
import type { ImageMeta } from '../agent/host/image/meta.js';

export interface PublishedImage {
  file: string;
  meta: ImageMeta;
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

/** Publishes the image under its own name with its meta.json beside it. */
export function publishImage(dir: string, built: BuiltImage): PublishedImage {
  mkdirSync(dir, { recursive: true });
  const file = basename(built.path);
  linkOrCopy(built.path, join(dir, file));
  const meta = { ...built.meta, uri: file };
  writeFileSync(join(dir, `${file}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
  return { file, meta };
}

/**
 * The same bytes published as `<stem>-mismatch.img.gz` with metadata claiming other
 * raw digests (the file digests stay right): the download verifies, the
 * decompressed stream does not — a checksum mismatch found while writing.
 */
export function publishMismatchedImage(dir: string, built: Pick<BuiltImage, 'path' | 'meta'>): PublishedImage {
  const file = basename(built.path).replace(/\.img\./, '-mismatch.img.');
  linkOrCopy(built.path, join(dir, file));
  const flip = (hex: string): string => hex.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  const meta = { ...built.meta, uri: file, raw_md5: flip(built.meta.raw_md5), raw_sha256: flip(built.meta.raw_sha256) };
  writeFileSync(join(dir, `${file}.meta.json`), JSON.stringify(meta, null, 2) + '\n');
  return { file, meta };
}
