// md5 + sha256 + size of a file in one streaming pass (images are hundreds of MiB).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface FileDigest {
  size: number;
  md5: string;
  sha256: string;
}

export async function digestFile(path: string): Promise<FileDigest> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    const b = chunk as Buffer;
    size += b.length;
    md5.update(b);
    sha.update(b);
  }
  return { size, md5: md5.digest('hex'), sha256: sha.digest('hex') };
}
