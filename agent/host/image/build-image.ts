// `provision build-image`: a Debian root filesystem built from scratch with
// debootstrap, made generic, packed as a shrunk ext4 image, compressed, with its
// image_data metadata — cached by its inputs so a second build is instant.
import { createHash } from 'node:crypto';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Ctx } from '../../core/context.js';
import { ForgeError } from '../../core/errors.js';
import { chrootRun } from '../../tools/chroot.js';
import { type Compression, compressFile, COMPRESSION_SUFFIX } from '../../tools/compress-file.js';
import { debootstrapCached } from '../build/debootstrap-cached.js';
import { mirrorForSuite, readAptSources } from '../build/apt-sources.js';
import { cachedBuild } from '../build/cached-build.js';
import { forgeCacheDir } from '../build/cache-dir.js';
import { digestFile } from './checksums.js';
import { packExt4 } from './ext4-pack.js';
import {
  addInitramfsLvmActivation,
  configureLocale,
  removePerNodeState,
  writeCloudInitConfig,
  writeGrubDefaults,
  writeNetworkConfig,
} from './finish-rootfs.js';
import { type ImageMeta, readImageMeta, writeImageMeta } from './meta.js';
import { type ImageProfile, profileSpec } from './profiles.js';
import { IMAGE_HARDWARE, type ImageHardware, pruneSpecFor } from './hardware.js';
import { pruneRoot, type PruneSpec } from '../build/prune-root.js';
import { defaultRepos, type RepoSetupRepo, validateRepos, writeRepos } from './repos.js';

/** Bump when the build steps change what ends up in an image: invalidates every cached image. */
export const IMAGE_BUILDER_VERSION = 5;

export interface BuildImageOptions {
  /** Distribution family; only debian is reachable on CI machines (ubuntu would need its mirror). */
  distro?: 'debian';
  suite?: string;
  /** Default: the mirror apt uses on this machine for `suite`. */
  mirror?: string;
  profile?: ImageProfile;
  /** `vm`: only QEMU's drivers (the lab's images); default `any`. */
  hardware?: ImageHardware;
  /** Extra packages on top of the profile's. */
  packages?: readonly string[];
  /** The image's apt sources (repo_setup.repos form). Default: the build mirror, `main`. */
  repos?: readonly RepoSetupRepo[];
  compression?: Compression;
  /** Image file base name (default `<distro>-<suite>-<profile>`, `-vm` added for VM hardware). */
  name?: string;
  /** `uri` in the metadata: `<baseUri>/<file>`; default a file:// URI of the cached file. */
  baseUri?: string;
  cacheDir?: string;
  /** Rebuild even when the cache holds a matching image. */
  force?: boolean;
}

export interface BuiltImage {
  /** Compressed image file. */
  path: string;
  metaPath: string;
  meta: ImageMeta;
  /** Directory holding the image, its metadata, build.json and packages.txt. */
  dir: string;
  key: string;
  cached: boolean;
  durationMs: number;
}

interface ResolvedInputs {
  builderVersion: number;
  distro: 'debian';
  suite: string;
  mirror: string;
  profile: ImageProfile;
  hardware: ImageHardware;
  /** What `hardware` prunes, in the key: a changed driver list is a new image. */
  prune: PruneSpec | null;
  variant: string | null;
  packages: string[];
  repos: RepoSetupRepo[];
  compression: Compression;
  name: string;
}

const PKG_RE = /^[a-z0-9][a-z0-9+.-]+$/;

export async function resolveImageInputs(o: BuildImageOptions): Promise<ResolvedInputs> {
  const distro = o.distro ?? 'debian';
  const suite = o.suite ?? 'bookworm';
  if (!/^[a-z][a-z0-9-]*$/.test(suite)) throw new ForgeError('USAGE', `--suite: not a suite name: ${suite}`, { field: 'suite' });
  const mirror = o.mirror ?? mirrorForSuite(await readAptSources(), suite);
  if (!mirror) {
    throw new ForgeError('USAGE', `no apt source on this machine carries suite ${suite}; pass --mirror URL`, { field: 'mirror' });
  }
  for (const p of o.packages ?? []) {
    if (!PKG_RE.test(p)) throw new ForgeError('USAGE', `--packages: not a Debian package name: ${JSON.stringify(p)}`, { field: 'packages' });
  }
  const profile = o.profile ?? 'full';
  const hardware = o.hardware ?? 'any';
  if (!IMAGE_HARDWARE.includes(hardware)) throw new ForgeError('USAGE', `--hardware: any or vm, not ${String(hardware)}`, { field: 'hardware' });
  const spec = profileSpec(profile);
  const packages = [...new Set([...spec.packages, ...(o.packages ?? [])])].sort();
  const repos = [...(o.repos ?? defaultRepos(mirror.replace(/\/+$/, ''), suite))];
  validateRepos(repos);
  return {
    builderVersion: IMAGE_BUILDER_VERSION,
    distro,
    suite,
    mirror: mirror.replace(/\/+$/, ''),
    profile,
    hardware,
    prune: pruneSpecFor(hardware) ?? null,
    variant: spec.variant ?? null,
    packages,
    repos,
    compression: o.compression ?? 'gzip',
    name: o.name ?? `${distro}-${suite}-${profile}${hardware === 'vm' ? '-vm' : ''}`,
  };
}

export function imageCacheKey(inputs: ResolvedInputs): string {
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
}

function imageFileName(inputs: ResolvedInputs): string {
  return `${inputs.name}.img${COMPRESSION_SUFFIX[inputs.compression]}`;
}

function uriFor(file: string, baseUri: string | undefined): string {
  if (baseUri) return `${baseUri.replace(/\/+$/, '')}/${file.split('/').pop() ?? file}`;
  return `file://${resolve(file)}`;
}

async function readCached(dir: string, file: string, baseUri: string | undefined): Promise<ImageMeta | undefined> {
  const metaPath = join(dir, `${file}.meta.json`);
  try {
    const meta = await readImageMeta(metaPath);
    const st = await stat(join(dir, file));
    if (st.size !== meta.size) return undefined;
    return { ...meta, uri: uriFor(join(dir, file), baseUri) };
  } catch {
    return undefined;
  }
}

async function buildInto(ctx: Ctx, inputs: ResolvedInputs, work: string, cacheDir: string): Promise<{ image: string; meta: ImageMeta }> {
  const root = join(work, 'rootfs');
  ctx.log.info('build-image.debootstrap', { suite: inputs.suite, mirror: inputs.mirror, packages: inputs.packages.length });
  await debootstrapCached(ctx, cacheDir, root, { suite: inputs.suite, mirror: inputs.mirror, packages: inputs.packages, ...(inputs.variant === 'minbase' ? { variant: 'minbase' as const } : {}) });
  await writeRepos(root, inputs.repos);
  await writeCloudInitConfig(root);
  await writeNetworkConfig(root);
  await writeGrubDefaults(root);
  await configureLocale(ctx, root);
  // Before the initramfs is rebuilt: it takes the modules that are left.
  if (inputs.prune) await pruneRoot(ctx, root, inputs.prune);
  await addInitramfsLvmActivation(ctx, root);
  const manifest = await chrootRun(ctx, root, ['dpkg-query', '-W', '-f', '${Package} ${Version}\n'], { readOnly: true });
  await writeFile(join(work, 'packages.txt'), manifest.stdout);
  await removePerNodeState(root);

  ctx.log.info('build-image.pack', { root });
  const raw = join(work, `${inputs.name}.img`);
  const packed = await packExt4(ctx, root, raw, { label: 'root' });
  await rm(root, { recursive: true, force: true });
  // Raw digests too: the agent verifies the decompressed stream it writes, not only the download.
  const r = await digestFile(raw);
  const image = await compressFile(ctx, inputs.compression, raw);
  await rm(raw, { force: true });
  const d = await digestFile(image);
  const meta: ImageMeta = {
    uri: '',
    format: 'ext4',
    container: inputs.compression,
    size: d.size,
    raw_size: packed.rawSize,
    md5: d.md5,
    sha256: d.sha256,
    raw_md5: r.md5,
    raw_sha256: r.sha256,
  };
  return { image, meta };
}

export async function buildImage(ctx: Ctx, o: BuildImageOptions = {}): Promise<BuiltImage> {
  const started = ctx.clock.now();
  const inputs = await resolveImageInputs(o);
  const cacheDir = o.cacheDir ?? forgeCacheDir();
  const key = imageCacheKey(inputs);
  const images = join(cacheDir, 'images');
  const dir = join(images, key);
  const file = imageFileName(inputs);
  const r = await cachedBuild(ctx, {
    what: 'image build',
    lock: join(images, `${key}.lock`),
    work: join(images, `${key}.partial`),
    into: dir,
    force: o.force,
    cached: () => readCached(dir, file, o.baseUri),
    build: async (work) => {
      const { image, meta } = await buildInto(ctx, inputs, work, cacheDir);
      const durationMs = ctx.clock.now() - started;
      await writeFile(join(work, 'build.json'), JSON.stringify({ key, inputs, durationMs, builtAt: new Date(ctx.clock.now()).toISOString() }, null, 2) + '\n');
      // The metadata written to disk carries the cache path; callers get their own uri.
      await writeImageMeta(join(work, `${file}.meta.json`), { ...meta, uri: uriFor(join(dir, file), undefined) });
      if (image !== join(work, file)) throw new ForgeError('BUILD_FAILED', `unexpected image path ${image}`);
    },
  });
  return {
    path: join(dir, file),
    metaPath: join(dir, `${file}.meta.json`),
    meta: r.value,
    dir,
    key,
    cached: r.cached,
    durationMs: ctx.clock.now() - started,
  };
}
