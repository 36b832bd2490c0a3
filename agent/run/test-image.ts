// A small real OS root filesystem image for the whole-run system test: the image
// builder's tiny image when the cache has one, else (built once, cached under
// $FORGE_CACHE_DIR/test-rootfs) debootstrap minbase + kernel + GRUB, packed with
// `mkfs.ext4 -d`. Returns the gzip image and the raw image's digests.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forgeCacheDir } from '../build-image/build-image.js';
import { packExt4 } from '../build-image/ext4-pack.js';
import type { Ctx } from '../core/context.js';
import { compressFile } from '../tools/compress-file.js';
import { debootstrap } from '../tools/debootstrap.js';

export interface TestImage {
  path: string;
  rawSize: number;
  /** Raw-image digests for image_data, when we made the image ourselves. */
  md5?: string;
  sha256?: string;
  source: 'build-image' | 'test-rootfs';
}

async function digests(file: string): Promise<{ md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(file)) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

async function fromBuilderCache(cache: string): Promise<TestImage | undefined> {
  const dir = join(cache, 'images');
  if (!existsSync(dir)) return undefined;
  for (const entry of (await readdir(dir)).sort()) {
    if (entry.endsWith('.partial') || entry.endsWith('.lock')) continue;
    const sub = join(dir, entry);
    const files = await readdir(sub).catch(() => [] as string[]);
    const img = files.find((f) => f.endsWith('.img.gz'));
    if (!img || !files.includes(`${img}.meta.json`)) continue;
    const meta = JSON.parse(await readFile(join(sub, `${img}.meta.json`), 'utf8')) as { raw_size: number };
    const packages = files.includes('packages.txt') ? await readFile(join(sub, 'packages.txt'), 'utf8') : '';
    if (!/grub-pc-bin/.test(packages)) continue;
    return { path: join(sub, img), rawSize: meta.raw_size, source: 'build-image' };
  }
  return undefined;
}

export async function ensureTestImage(ctx: Ctx): Promise<TestImage> {
  const cache = forgeCacheDir();
  const built = await fromBuilderCache(cache);
  if (built) return built;
  const dir = join(cache, 'test-rootfs');
  const gz = join(dir, 'rootfs.img.gz');
  const sums = join(dir, 'rootfs.json');
  if (existsSync(gz) && existsSync(sums)) {
    return { ...(JSON.parse(await readFile(sums, 'utf8')) as Omit<TestImage, 'path' | 'source'>), path: gz, source: 'test-rootfs' };
  }
  const root = join(dir, 'root');
  if (!existsSync(join(root, '.complete'))) {
    await rm(root, { recursive: true, force: true });
    await debootstrap(ctx, {
      suite: 'bookworm',
      target: root,
      mirror: 'http://deb.debian.org/debian',
      variant: 'minbase',
      include: ['grub-pc-bin', 'grub-efi-amd64-bin', 'grub2-common', 'linux-image-amd64', 'systemd-sysv', 'udev', 'kmod'],
      cacheDir: join(cache, 'debs', 'bookworm'),
    });
    await writeFile(join(root, '.complete'), '');
  }
  const raw = join(dir, 'rootfs.img');
  await packExt4(ctx, root, raw, { label: 'root' });
  const d = await digests(raw);
  const rawSize = (await stat(raw)).size;
  await compressFile(ctx, 'gzip', raw, 1);
  await rm(raw, { force: true });
  await writeFile(sums, JSON.stringify({ rawSize, ...d }));
  return { path: gz, rawSize, ...d, source: 'test-rootfs' };
}
