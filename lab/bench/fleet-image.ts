// The image every simulated node writes: a small ext4 filesystem shaped like the
// `npm run bench` image (a quarter random bytes like packages, 5/16 text-like that
// gzip halves, the rest empty), gzip -6 like the image builder, with the builder's
// <image>.meta.json beside it. Built once per size and cached.
import { randomFillSync } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { readImageMeta, writeImageMeta, type ImageMeta } from '../../agent/host/image/meta.js';
import type { Runner } from '../../agent/core/runner.js';
import { digestFile } from '../../agent/host/image/checksums.js';

const MiB = 1 << 20;

export interface FleetImage {
  dir: string;
  /** File name under dir (and under the master's /targetimages/). */
  file: string;
  raw: string;
  meta: ImageMeta;
}

export async function ensureFleetImage(runner: Runner, cache: string, imageMiB: number): Promise<FleetImage> {
  const dir = join(cache, `fleet-${imageMiB}m`);
  const file = `fleet-${imageMiB}m.img.gz`;
  const raw = join(dir, `fleet-${imageMiB}m.img`);
  const gz = join(dir, file);
  const metaPath = `${gz}.meta.json`;
  if (existsSync(metaPath) && existsSync(raw)) return { dir, file, raw, meta: await readImageMeta(metaPath) };
  rmSync(dir, { recursive: true, force: true });
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  const buf = Buffer.alloc(MiB);
  for (let i = 0; i < imageMiB / 4; i++) writeFileSync(join(tree, `random-${i}.bin`), randomFillSync(buf));
  for (let i = 0; i < (imageMiB * 5) / 16; i++) {
    randomFillSync(buf);
    // A 16-letter alphabet: about 2:1 under gzip, like text and binaries.
    for (let j = 0; j < buf.length; j++) buf[j] = 0x61 + ((buf[j] as number) & 0x0f);
    writeFileSync(join(tree, `text-${i}.txt`), buf);
  }
  await runner.run(['mkfs.ext4', '-q', '-F', '-d', tree, '-L', 'fleet', raw, `${imageMiB}M`], { timeoutMs: 600_000 });
  rmSync(tree, { recursive: true, force: true });
  const p = runner.spawn(['gzip', '-6', '-n', '-c', raw], { timeoutMs: 1_800_000 });
  p.stdin.end();
  await pipeline(p.stdout, createWriteStream(`${gz}.tmp`));
  await p.result;
  renameSync(`${gz}.tmp`, gz);
  const [r, c] = [await digestFile(raw), await digestFile(gz)];
  const meta: ImageMeta = {
    uri: file, format: 'ext4', container: 'gzip', size: statSync(gz).size, raw_size: r.size,
    md5: c.md5, sha256: c.sha256, raw_md5: r.md5, raw_sha256: r.sha256,
  };
  // The metadata last: its presence marks a complete cache entry.
  await writeImageMeta(metaPath, meta);
  return { dir, file, raw, meta };
}
