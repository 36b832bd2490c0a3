// APT repositories inside the built image, in the provisioning data's
// `ks_meta.repo_setup.repos` form (Fuel's), rendered as one .list file per repo
// plus an apt pin when a priority is given.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForgeError } from '../../core/errors.js';

export interface RepoSetupRepo {
  name: string;
  type: 'deb' | 'deb-src';
  uri: string;
  suite: string;
  /** Space-separated components, e.g. `main contrib`. */
  section: string;
  priority?: number | null;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function validateRepos(repos: readonly RepoSetupRepo[], field = 'repo_setup.repos'): void {
  const seen = new Set<string>();
  repos.forEach((r, i) => {
    const f = `${field}[${i}]`;
    if (!NAME_RE.test(r.name ?? '')) throw new ForgeError('USAGE', `${f}.name must be a file-name-safe word, got ${JSON.stringify(r.name)}`, { field: `${f}.name` });
    if (seen.has(r.name)) throw new ForgeError('USAGE', `${f}.name ${r.name} is used twice`, { field: `${f}.name` });
    seen.add(r.name);
    if (r.type !== 'deb' && r.type !== 'deb-src') throw new ForgeError('USAGE', `${f}.type must be deb or deb-src`, { field: `${f}.type` });
    if (!/^(https?|file|ftp):\/\/\S+$/.test(r.uri ?? '')) throw new ForgeError('USAGE', `${f}.uri must be an http(s)/file/ftp URL, got ${JSON.stringify(r.uri)}`, { field: `${f}.uri` });
    if (!/^\S+$/.test(r.suite ?? '')) throw new ForgeError('USAGE', `${f}.suite is required`, { field: `${f}.suite` });
    if (/[\n\r]/.test(r.section ?? '')) throw new ForgeError('USAGE', `${f}.section must be one line`, { field: `${f}.section` });
  });
}

export function renderSourcesLine(r: RepoSetupRepo): string {
  return `${r.type} ${r.uri} ${r.suite} ${r.section}`.trim() + '\n';
}

export function renderPin(r: RepoSetupRepo): string | undefined {
  if (r.priority === undefined || r.priority === null) return undefined;
  const host = (() => {
    try {
      return new URL(r.uri).hostname;
    } catch {
      return undefined;
    }
  })();
  // Pin by origin host and suite: the narrowest selector Fuel's repos share.
  const pin = host ? `origin ${host}` : `release a=${r.suite}`;
  return `Package: *\nPin: ${pin}\nPin-Priority: ${r.priority}\n`;
}

/** Debian's own repositories for a suite from the build mirror: the default repo_setup. */
export function defaultRepos(mirror: string, suite: string): RepoSetupRepo[] {
  return [{ name: 'debian', type: 'deb', uri: mirror, suite, section: 'main', priority: null }];
}

/** Replaces every apt source of the root filesystem with `repos`. */
export async function writeRepos(root: string, repos: readonly RepoSetupRepo[]): Promise<void> {
  validateRepos(repos);
  const etc = join(root, 'etc/apt');
  await mkdir(join(etc, 'sources.list.d'), { recursive: true });
  await mkdir(join(etc, 'preferences.d'), { recursive: true });
  await writeFile(join(etc, 'sources.list'), '# fuel-forge: repositories are in sources.list.d/ (repo_setup)\n');
  for (const f of await readdir(join(etc, 'sources.list.d'))) await rm(join(etc, 'sources.list.d', f), { force: true });
  for (const r of repos) {
    await writeFile(join(etc, 'sources.list.d', `${r.name}.list`), renderSourcesLine(r));
    const pin = renderPin(r);
    if (pin) await writeFile(join(etc, 'preferences.d', `${r.name}.pref`), pin);
  }
}
