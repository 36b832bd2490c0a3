// The host's own check of what a node wrote: read its partition back and compare
// it with the image, byte range by byte range, through an md5. The one range left
// out is ext4's primary superblock (1 KiB at offset 1024): the image step's
// `e2fsck -f` rewrites it (kbytes written, check time, checksum) by design; every
// other byte must be the image's. The agent's own streaming md5/sha256 of the
// whole raw image is checked against the metadata separately.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export const SUPERBLOCK = { start: 1024, end: 2048 } as const;

/** md5 of the first `size` bytes of `path`, with bytes in [hole.start, hole.end) read as zeros. */
export async function md5WithHole(path: string, size: number, hole: { start: number; end: number } = SUPERBLOCK): Promise<string> {
  const h = createHash('md5');
  let pos = 0;
  for await (const c of createReadStream(path, { start: 0, end: size - 1, highWaterMark: 4 << 20 })) {
    const b = c as Buffer;
    const from = Math.max(hole.start, pos) - pos;
    const to = Math.min(hole.end, pos + b.length) - pos;
    if (from < to) b.fill(0, from, to);
    h.update(b);
    pos += b.length;
  }
  if (pos !== size) return `short read: ${pos} of ${size} bytes`;
  return h.digest('hex');
}
