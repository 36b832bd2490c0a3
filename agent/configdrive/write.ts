// Writes the configdrive onto plan.configdrive.device: vfat labelled config-2
// filled through mtools (no mount), or iso9660 built by xorriso and copied onto
// the partition. Leaves: a filesystem cloud-init's ConfigDrive and NoCloud
// datasources read at first boot.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import type { Plan, PlannedConfigDrive } from '../plan/types.js';
import type { ProvisionData } from '../schema/provision-data.js';
import { probeGeometry } from '../tools/blockdev.js';
import { mkfsArgv } from '../tools/mkfs.js';
import { mkisofs } from '../tools/mkisofs.js';
import { mcopy, mtype } from '../tools/mtools.js';
import { wipeSignatures } from '../tools/wipefs.js';
import { buildConfigDrive, type BuildOptions, type ConfigDriveContents } from './build.js';

export interface ConfigDriveFileReport {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ConfigDriveReport {
  device: string;
  format: PlannedConfigDrive['format'];
  label: string;
  instanceId: string;
  hostname: string;
  callbackUrl: string;
  files: ConfigDriveFileReport[];
  /** Bytes written to the device (iso9660) or stored as files (vfat). */
  bytes: number;
}

export interface WriteConfigDriveOptions extends BuildOptions {
  /** Overrides plan.configdrive.format. */
  format?: PlannedConfigDrive['format'];
}

/** Writes the staging tree; returns the top-level entries to copy. */
async function stage(dir: string, contents: ConfigDriveContents): Promise<string[]> {
  for (const [rel, body] of contents.files) {
    const p = join(dir, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, body, { mode: 0o644 });
  }
  return [...new Set([...contents.files.keys()].map((k) => k.split('/')[0] as string))].sort().map((t) => join(dir, t));
}

async function writeVfat(ctx: Ctx, device: string, label: string, tops: string[], contents: ConfigDriveContents): Promise<void> {
  await wipeSignatures(ctx, device);
  await ctx.run(mkfsArgv({ device, type: 'vfat', label }), { timeoutMs: 120_000 });
  await mcopy(ctx, device, tops);
  if (ctx.dryRun) return;
  // Read one file back through the filesystem: proves the FAT is readable and complete.
  const key = 'openstack/latest/meta_data.json';
  const back = await mtype(ctx, device, key);
  if (back !== contents.files.get(key)) {
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive on ${device}: ${key} reads back different from what was written`, {
      details: { device },
    });
  }
}

async function writeIso(ctx: Ctx, device: string, label: string, stageDir: string, work: string): Promise<number> {
  const iso = join(work, 'configdrive.iso');
  await mkisofs(ctx, stageDir, iso, label);
  const geo = await probeGeometry(ctx, device);
  if (geo.logicalSectorSize === 4096) {
    // Field failure: iso9660 often does not mount on 4Kn devices; vfat is the safe default.
    ctx.log.warn('configdrive.iso9660_on_4k', { device });
  }
  if (ctx.dryRun) return 0;
  const size = (await stat(iso)).size;
  if (Number.isFinite(geo.size) && size > geo.size) {
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive image (${size} bytes) does not fit ${device} (${geo.size} bytes)`, {
      details: { device, size, deviceSize: geo.size },
    });
  }
  await wipeSignatures(ctx, device);
  await pipeline(createReadStream(iso), createWriteStream(device, { flags: 'r+' }));
  // fsync on any descriptor of a block device flushes its whole page cache.
  const fh = await open(device, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return size;
}

export async function writeConfigDrive(
  ctx: Ctx,
  plan: Plan,
  data: ProvisionData,
  opts: WriteConfigDriveOptions = {},
): Promise<ConfigDriveReport> {
  const cd = plan.configdrive;
  if (!cd) throw new ForgeError('CONFIGDRIVE_FAILED', 'the plan has no configdrive partition', { field: 'configdrive' });
  const format = opts.format ?? cd.format;
  const contents = buildConfigDrive(data, opts);
  const work = await mkdtemp(join(tmpdir(), 'forge-configdrive-'));
  try {
    const stageDir = join(work, 'root');
    const tops = await stage(stageDir, contents);
    ctx.log.info('configdrive.write', { device: cd.device, format, files: contents.files.size });
    let bytes = 0;
    if (format === 'iso9660') bytes = await writeIso(ctx, cd.device, cd.label, stageDir, work);
    else await writeVfat(ctx, cd.device, cd.label, tops, contents);
    const files = [...contents.files].map(([path, body]) => ({
      path,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    }));
    if (format === 'vfat') bytes = files.reduce((a, f) => a + f.bytes, 0);
    return {
      device: cd.device,
      format,
      label: cd.label,
      instanceId: contents.input.uuid,
      hostname: contents.input.fqdn,
      callbackUrl: contents.input.callbackUrl,
      files,
      bytes,
    };
  } catch (e) {
    if (isForgeError(e)) throw e;
    throw new ForgeError('CONFIGDRIVE_FAILED', `configdrive on ${cd.device}: ${(e as Error).message}`, { cause: e });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
