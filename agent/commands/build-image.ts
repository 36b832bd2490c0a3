// `provision build-image`: build (or reuse from the cache) a Debian OS image.
import { readInputFile } from '../core/read-input.js';
import { parseJsonText } from '../schema/load.js';
import { buildImage } from '../host/image/build-image.js';
import type { RepoSetupRepo } from '../host/image/repos.js';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { cacheDirOption, commaList, debootstrapOptions, defineOptions, jsonOption, optionCommand } from './options.js';

const options = defineOptions({
  profile: { type: 'string', arg: 'PROFILE', choices: ['full', 'deploy', 'tiny'], default: 'full', help: 'package set: full (deploy + XFS, parted, sudo, …), deploy (tiny + mcollective, puppet, rsync) or tiny' },
  hardware: { type: 'string', arg: 'KIND', choices: ['any', 'vm'], default: 'any', help: 'kernel modules kept: any (every driver) or vm (QEMU devices only; smaller, faster to write and boot)' },
  ...debootstrapOptions,
  'repo-setup': { type: 'string', arg: 'FILE', help: 'apt repositories: a repo_setup object or a whole provision.json (ks_meta.repo_setup)' },
  compression: { type: 'string', arg: 'FORMAT', choices: ['gzip', 'xz', 'zstd'], default: 'gzip', help: 'container of the image file' },
  name: { type: 'string', arg: 'NAME', help: 'image file name (without extension)' },
  'base-uri': { type: 'string', arg: 'URL', help: 'URL the image will be served under (written into its metadata)' },
  ...cacheDirOption,
  force: { type: 'boolean', help: 'rebuild even when the cache has it' },
  ...jsonOption,
});

async function readRepos(path: string): Promise<RepoSetupRepo[]> {
  const doc = parseJsonText(await readInputFile(path, { what: '--repo-setup' }), '--repo-setup', 'CONFIG_INVALID');
  // Accept a bare repo_setup object, or a whole provision.json (ks_meta.repo_setup).
  const d = doc as { repos?: unknown; ks_meta?: { repo_setup?: { repos?: unknown } } };
  const repos = d.repos ?? d.ks_meta?.repo_setup?.repos;
  if (!Array.isArray(repos)) throw new ForgeError('USAGE', `--repo-setup ${path}: no repos array (repo_setup.repos)`, { field: 'repo-setup' });
  return repos as RepoSetupRepo[];
}

export const command = optionCommand({
  name: 'build-image',
  summary: 'Build a Debian OS image (raw ext4, compressed, with .meta.json) into the cache from scratch with debootstrap.',
  options,
  async run(values, io, env) {
    const ctx = createCtx({ signal: env.signal });
    const built = await buildImage(ctx, {
      profile: values.profile,
      hardware: values.hardware,
      compression: values.compression,
      ...(values.suite ? { suite: values.suite } : {}),
      ...(values.mirror ? { mirror: values.mirror } : {}),
      ...(values.packages ? { packages: commaList(values.packages) } : {}),
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
});
