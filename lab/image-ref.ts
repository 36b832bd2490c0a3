// The image reference the lab publishes in image_data. The agent verifies md5
// against the RAW (decompressed) stream as fuel-agent does, while the builder's
// meta.json md5/sha256 are of the compressed file: the lab computes the raw md5
// once and caches it beside its own state.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { cacheDir } from './vm/test-kernel.js';

export async function rawMd5(path: string): Promise<string> {
  const st = statSync(path);
  const memo = join(cacheDir(), 'lab', 'raw-md5', `${basename(path)}-${st.size}-${Math.floor(st.mtimeMs)}`);
  if (existsSync(memo)) return readFileSync(memo, 'utf8').trim();
  const h = createHash('md5');
  await pipeline(createReadStream(path), createGunzip(), async function* (src) {
    for await (const c of src) h.update(c as Buffer);
  });
  const md5 = h.digest('hex');
  mkdirSync(join(cacheDir(), 'lab', 'raw-md5'), { recursive: true });
  writeFileSync(memo, md5 + '\n');
  return md5;
}
