// The master node's container images, built locally because no registry is
// reachable: debootstrap minbase → pruned → tarball → `docker import`. Two specs:
// MASTER_IMAGE (dnsmasq + nginx, every lab) and DEPLOY_IMAGE (RabbitMQ + STOMP,
// the mcollective client, rsyncd: what the master needs once nodes are provisioned).
// Cached twice, on a key of every input: the tarball in <cache>/master/ and the
// image tag <repo>:<key> in the daemon (vfs storage loses nothing between runs,
// but a fresh daemon re-imports from the tarball in seconds).
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mirrorForSuite, readAptSources } from '../../agent/host/build/apt-sources.js';
import { cachedBuild } from '../../agent/host/build/cached-build.js';
import { forgeCacheDir } from '../../agent/host/build/cache-dir.js';
import { debootstrapCached } from '../../agent/host/build/debootstrap-cached.js';
import type { Ctx } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import { dockerProbe, imageInspectArgv, importArgv } from './docker-cli.js';
import { tarCreate } from './tar.js';

/** What one container image holds; every field is part of its cache key. */
export interface ContainerImageSpec {
  repo: string;
  /** Bump when the build steps change what ends up in the image. */
  version: number;
  packages: readonly string[];
  /** Paths (relative to the root) the build must have produced. */
  required: readonly string[];
  /** Directories created after pruning (daemons open them before reading our config). */
  dirs: readonly string[];
}

/**
 * dnsmasq-base holds /usr/sbin/dnsmasq (the `dnsmasq` package only adds the init
 * script and a system config we do not use); nginx-light serves images with
 * Range support; iproute2 is for `docker exec … ip addr` when debugging.
 */
export const MASTER_IMAGE: ContainerImageSpec = {
  repo: 'fuel-forge/master',
  version: 1,
  packages: ['dnsmasq-base', 'iproute2', 'nginx-light'],
  required: ['usr/sbin/dnsmasq', 'usr/sbin/nginx'],
  // nginx opens its compiled-in log path before reading our config.
  dirs: ['var/log/nginx'],
};

/**
 * The deployment side of the master, as Fuel's master ran it: RabbitMQ with its
 * STOMP plugin (mcollective's broker), the mcollective client (`mco`, with the
 * STOMP gem its rabbitmq connector uses) and rsync's daemon serving puppet code.
 */
export const DEPLOY_IMAGE: ContainerImageSpec = {
  repo: 'fuel-forge/master-deploy',
  version: 1,
  packages: ['iproute2', 'mcollective-client', 'rabbitmq-server', 'rsync'],
  required: ['usr/sbin/rabbitmq-server', 'usr/bin/mco', 'usr/bin/rsync'],
  dirs: ['var/log/rabbitmq', 'var/lib/rabbitmq/mnesia'],
};

/** Removed from the root before packing: nothing in the container reads them. */
export const MASTER_PRUNED_PATHS = [
  'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'usr/share/lintian',
  'var/lib/apt/lists', 'var/cache/apt', 'var/cache/debconf/templates.dat-old',
  'var/log/apt', 'var/log/dpkg.log', 'var/log/alternatives.log', 'var/log/bootstrap.log',
] as const;

export interface MasterImageInputs {
  repo: string;
  version: number;
  suite: string;
  mirror: string;
  packages: string[];
  pruned: string[];
}

export interface MasterImage {
  tag: string;
  key: string;
  tarball: string;
  /** What this call did: nothing (tag present), import only (tarball cached), or the whole build. */
  action: 'cached' | 'imported' | 'built';
  durationMs: number;
  /** Image size as the daemon reports it. */
  sizeBytes: number;
}

export interface MasterImageOptions {
  cacheDir?: string;
  suite?: string;
  mirror?: string;
}

export async function resolveMasterImageInputs(o: MasterImageOptions = {}, spec: ContainerImageSpec = MASTER_IMAGE): Promise<MasterImageInputs> {
  const suite = o.suite ?? 'bookworm';
  const mirror = o.mirror ?? mirrorForSuite(await readAptSources(), suite);
  if (!mirror) throw new ForgeError('USAGE', `no apt source on this machine carries suite ${suite}; pass a mirror`, { field: 'mirror' });
  return {
    repo: spec.repo,
    version: spec.version,
    suite,
    mirror: mirror.replace(/\/+$/, ''),
    packages: [...spec.packages].sort(),
    pruned: [...MASTER_PRUNED_PATHS],
  };
}

export function masterImageKey(i: MasterImageInputs): string {
  return createHash('sha256').update(JSON.stringify(i)).digest('hex').slice(0, 16);
}


async function inspectImage(ctx: Ctx, tag: string): Promise<number | undefined> {
  const out = await dockerProbe(ctx.runner, imageInspectArgv(tag));
  if (out === undefined) return undefined;
  return Number(out.trim().split(/\s+/)[1] ?? 0);
}

/** debootstrap + prune + tar in `work`, leaving `tarball` (atomically renamed into place). */
async function buildTarball(ctx: Ctx, cacheDir: string, spec: ContainerImageSpec, inputs: MasterImageInputs, tarball: string, work: string): Promise<void> {
  const root = join(work, 'root');
  ctx.log.info('master.image.debootstrap', { suite: inputs.suite, mirror: inputs.mirror, packages: inputs.packages });
  await debootstrapCached(ctx, cacheDir, root, { ...inputs, variant: 'minbase' });
  const missing = spec.required.filter((p) => !existsSync(join(root, p)));
  if (missing.length) throw new ForgeError('BUILD_FAILED', `${spec.repo} image root lacks ${missing.map((p) => `/${p}`).join(', ')} (${root})`);
  for (const p of inputs.pruned) await rm(join(root, p), { recursive: true, force: true });
  for (const d of spec.dirs) await mkdir(join(root, d), { recursive: true });
  await tarCreate(ctx.runner, root, join(work, 'rootfs.tar'));
  await writeFile(`${tarball}.inputs.json`, JSON.stringify(inputs, null, 2) + '\n');
  await rename(join(work, 'rootfs.tar'), tarball);
}

/** The image tag to start master containers from; builds and imports only what is missing. */
export async function ensureMasterImage(ctx: Ctx, o: MasterImageOptions = {}, spec: ContainerImageSpec = MASTER_IMAGE): Promise<MasterImage> {
  const started = ctx.clock.now();
  const cacheDir = o.cacheDir ?? forgeCacheDir();
  const inputs = await resolveMasterImageInputs(o, spec);
  const key = masterImageKey(inputs);
  const tag = `${spec.repo}:${key}`;
  const dir = join(cacheDir, 'master');
  const tarball = join(dir, `rootfs-${key}.tar`);

  // The cache is the daemon's image tag; the tarball is an intermediate cache of its own.
  let action: MasterImage['action'] = 'imported';
  const r = await cachedBuild(ctx, {
    what: `${spec.repo} image build`,
    lock: join(dir, `image-${key}.lock`),
    work: `${tarball}.partial`,
    cached: () => inspectImage(ctx, tag),
    build: async (work) => {
      if (!(await stat(tarball).then((s) => s.isFile(), () => false))) {
        action = 'built';
        await buildTarball(ctx, cacheDir, spec, inputs, tarball, work);
      }
      await ctx.run(importArgv(tarball, tag, { 'fuel-forge.master-key': key }), { timeoutMs: 10 * 60_000 });
    },
  });
  const done: MasterImage = { tag, key, tarball, action: r.cached ? 'cached' : action, sizeBytes: r.value, durationMs: ctx.clock.now() - started };
  if (!r.cached) ctx.log.info('master.image.ready', { tag, action, sizeBytes: r.value, durationMs: done.durationMs });
  return done;
}
