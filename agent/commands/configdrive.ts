// `provision configdrive`: write only the cloud-init configdrive of the plan, or
// with `--out DIR` render its files (everything cloud-init reads, ConfigDrive and
// NoCloud) into a directory without touching any device: operators inspect what a
// node will get, tests read it back with cloud-init itself.
import { createHash } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { ConfigDriveContents } from '../configdrive/build.js';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { runOptions, runProvisionCommand } from './run-command.js';
import { checkInput } from '../run/check-input.js';
import { loadProvisionData } from '../schema/load.js';
import { defineOptions } from './options.js';
import type { CliIO, Command } from '../core/cli-types.js';

/** `--out DIR`: render only; of the run's options only these mean something without a device. */
const outOptions = defineOptions(
  {
    out: { type: 'string', arg: 'DIR', required: true, help: 'render the configdrive files into this new or empty directory, touching no device' },
    input: runOptions.table.input,
    'callback-url': runOptions.table['callback-url'],
  },
  { note: 'with --out only --input and --callback-url apply' },
);

export interface RenderedFile {
  path: string;
  bytes: number;
  sha256: string;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Writes the configdrive's files under `dir`, which is created (0700: the files hold
 * passwords) or must be empty: files left from an earlier render (a content file
 * the data no longer lists) would be read as part of this one, and we never
 * overwrite or delete what is already there. Files are created exclusively, 0600.
 */
export async function renderToDir(dir: string, contents: ConfigDriveContents): Promise<RenderedFile[]> {
  const field = 'out';
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const present = await readdir(dir);
    if (present.length) {
      throw new ForgeError('USAGE', `--out ${dir}: not empty (${present.length} entries); give a new or empty directory`, { field });
    }
  } catch (e) {
    if (e instanceof ForgeError) throw e;
    const code = errno(e);
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new ForgeError('USAGE', `--out ${dir}: not a directory`, { field, cause: e });
    throw new ForgeError('CONFIGDRIVE_FAILED', `--out ${dir}: cannot create: ${code ?? String(e)}`, { field, cause: e });
  }
  const written: RenderedFile[] = [];
  for (const [rel, body] of contents.files) {
    if (isAbsolute(rel) || normalize(rel) !== rel || rel.split('/').includes('..')) {
      throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive file name escapes the directory: ${rel}`);
    }
    const path = join(dir, rel);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      await writeFile(path, body, { mode: 0o600, flag: 'wx' });
    } catch (e) {
      throw new ForgeError('CONFIGDRIVE_FAILED', `cannot write ${path}: ${errno(e) ?? String(e)}`, { field, cause: e });
    }
    const bytes = Buffer.from(body, 'utf8');
    written.push({ path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
  }
  return written;
}

/** `--out DIR`: the run's whole-input validation, then the files; no device, no plan, no log file. */
async function renderOut(args: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const v = outOptions.parse(args, 'configdrive');
  const out = v.out;
  // The same validate step as `provision run` (schema, then every configdrive value) before anything is written;
  // it renders the configdrive in memory, and that rendering is what goes to DIR.
  const data = await loadProvisionData(v.input);
  const contents = await checkInput(createCtx({ signal }), data, v['callback-url'] === undefined ? {} : { callbackUrl: v['callback-url'] });
  const files = await renderToDir(out, contents);
  io.out(JSON.stringify({ out, instanceId: contents.input.uuid, hostname: contents.input.fqdn, files }, null, 2));
  return 0;
}

const wantsOut = (args: readonly string[]): boolean => args.some((a) => a === '--out' || a.startsWith('--out='));

export const command: Command = {
  name: 'configdrive',
  summary:
    'Validate and plan, then write only the configdrive (vfat config-2 by default) from the provision data; ' +
    'with --out DIR, validate and render its files (openstack/…, meta-data, user-data, network-config) into DIR instead, touching no device.',
  usage: `${runOptions.usage('configdrive')}\n${outOptions.usage('configdrive')}`,
  options: `${runOptions.help()}\nwith --out:\n${outOptions.help()}`,
  run: (args, io, env) =>
    wantsOut(args) ? renderOut(args, io, env.signal) : runProvisionCommand('configdrive', args, io, { only: ['configdrive'], signal: env.signal }),
};
