// `provision build-image`: build (or reuse from the cache) a Debian OS image.
import { readInputFile } from '../core/read-input.js';
import { parseJsonText } from '../schema/load.js';
import { parseArgs } from 'node:util';
import { buildImage } from '../build-image/build-image.js';
import { isImageProfile } from '../build-image/profiles.js';
import type { RepoSetupRepo } from '../build-image/repos.js';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import type { Compression } from '../tools/compress-file.js';
import type { Command } from './types.js';

const USAGE = `usage: provision build-image [--profile full|tiny] [--suite bookworm] [--mirror URL]
        [--packages a,b,c] [--repo-setup FILE] [--compression gzip|xz|zstd] [--name NAME]
        [--base-uri URL] [--cache-dir DIR] [--force] [--json]`;

async function readRepos(path: string): Promise<RepoSetupRepo[]> {
  const doc = parseJsonText(await readInputFile(path, { what: '--repo-setup' }), '--repo-setup', 'CONFIG_INVALID');
  // Accept a bare repo_setup object, or a whole provision.json (ks_meta.repo_setup).
  const d = doc as { repos?: unknown; ks_meta?: { repo_setup?: { repos?: unknown } } };
  const repos = d.repos ?? d.ks_meta?.repo_setup?.repos;
  if (!Array.isArray(repos)) throw new ForgeError('USAGE', `--repo-setup ${path}: no repos array (repo_setup.repos)`, { field: 'repo-setup' });
  return repos as RepoSetupRepo[];
}

export const command: Command = {
  name: 'build-image',
  summary: 'Build a Debian OS image (raw ext4, compressed, with .meta.json) into the cache from scratch with debootstrap.',
  usage: USAGE,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        profile: { type: 'string' },
        suite: { type: 'string' },
        mirror: { type: 'string' },
        packages: { type: 'string' },
        'repo-setup': { type: 'string' },
        compression: { type: 'string' },
        name: { type: 'string' },
        'base-uri': { type: 'string' },
        'cache-dir': { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      strict: true,
    });
    const profile = values.profile ?? 'full';
    if (!isImageProfile(profile)) throw new ForgeError('USAGE', `--profile must be full or tiny, got ${profile}`, { field: 'profile' });
    const compression = values.compression ?? 'gzip';
    if (!['gzip', 'xz', 'zstd'].includes(compression)) {
      throw new ForgeError('USAGE', `--compression must be gzip, xz or zstd, got ${compression}`, { field: 'compression' });
    }
    const ctx = createCtx();
    const built = await buildImage(ctx, {
      profile,
      compression: compression as Compression,
      ...(values.suite ? { suite: values.suite } : {}),
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...(values.packages ? { packages: values.packages.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      ...(values['repo-setup'] ? { repos: await readRepos(values['repo-setup']) } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values['base-uri'] ? { baseUri: values['base-uri'] } : {}),
      ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
      ...(values.force ? { force: true } : {}),
    });
    if (values.json) {
      io.out(JSON.stringify({ path: built.path, metaPath: built.metaPath, cached: built.cached, durationMs: built.durationMs, meta: built.meta }, null, 2));
    } else {
      io.out(`${built.cached ? 'cached' : 'built'} ${built.path} (${built.meta.size} bytes, raw ${built.meta.raw_size}) in ${(built.durationMs / 1000).toFixed(1)} s`);
      io.out(`metadata ${built.metaPath}`);
    }
    return 0;
  },
};
