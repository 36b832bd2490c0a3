import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { ExecaRunner, RecordingRunner } from '../core/runner.js';
import type { Plan } from '../plan/types.js';
import { parseProvisionData } from '../schema/load.js';
import { createLoopDisk, findLeaks } from '../testing/loop-disks.js';
import { probeSignature } from '../tools/blkid.js';
import { MountStack } from '../tools/mount.js';
import { listFiles, mtype } from '../tools/mtools.js';
import { writeConfigDrive } from './write.js';

const sample = parseProvisionData(JSON.parse(readFileSync(new URL('../../fixtures/fuel-nailgun/provision_sample.json', import.meta.url), 'utf8')));

function planFor(device: string, format: 'vfat' | 'iso9660' = 'vfat'): Plan {
  return {
    version: 1, parteds: [], mds: [], pvs: [], vgs: [], lvs: [], fss: [], images: [],
    configdrive: { device, disk: device, partitionNum: 1, size: 64, label: 'config-2', format },
    bootloader: { disks: [], bootDevice: device, rootDevice: device, kernelParams: '' },
  };
}

const EXPECTED = [
  'meta-data',
  'network-config',
  'openstack/latest/meta_data.json',
  'openstack/latest/network_data.json',
  'openstack/latest/user_data',
  'user-data',
];

afterAll(async () => {
  expect(await findLeaks()).toEqual({ loops: [], vgs: [], mds: [] });
});

describe('writeConfigDrive (recorded)', () => {
  it('wipes, makes vfat labelled config-2 and copies with mtools, without mounting', async () => {
    const runner = new RecordingRunner();
    const ctx = createCtx({ runner, log: silentLogger, dryRun: true });
    const report = await writeConfigDrive(ctx, planFor('/dev/sdz9'), sample);
    const argv = runner.planned.map((a) => a.join(' '));
    expect(argv[0]).toBe('wipefs --all --force /dev/sdz9');
    expect(argv[1]).toBe('mkfs.vfat -n config-2 /dev/sdz9');
    expect(argv[2]).toMatch(/^mcopy -i \/dev\/sdz9 -s -o -Q \S+\/root\/meta-data \S+\/root\/network-config \S+\/root\/openstack \S+\/root\/user-data ::\/$/);
    expect(argv.some((a) => a.startsWith('mount'))).toBe(false);
    expect(report.files.map((f) => f.path).sort()).toEqual(EXPECTED);
    expect(report.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && f.bytes > 0)).toBe(true);
  });

  it('fails with CONFIGDRIVE_FAILED when the plan has no configdrive', async () => {
    const ctx = createCtx({ runner: new RecordingRunner(), log: silentLogger, dryRun: true });
    const { configdrive: _c, ...plan } = planFor('/dev/x');
    await expect(writeConfigDrive(ctx, plan, sample)).rejects.toMatchObject({ code: 'CONFIGDRIVE_FAILED' });
  });
});

describe('writeConfigDrive (loop device)', () => {
  it('writes a vfat config-2 that mtools lists, then an iso9660 one over it that reads back', async () => {
    await using disk = await createLoopDisk({ sizeMiB: 64, tag: 'cd' });
    const ctx = createCtx({ runner: new ExecaRunner(), log: silentLogger });
    const r1 = await writeConfigDrive(ctx, planFor(disk.device), sample);
    expect(r1.format).toBe('vfat');
    const sig = await probeSignature(ctx, disk.device);
    expect(sig).toMatchObject({ TYPE: 'vfat', LABEL: 'config-2' });
    const listed = await listFiles(ctx, disk.device);
    for (const f of EXPECTED) expect(listed).toContain(f);
    const meta = JSON.parse(await mtype(ctx, disk.device, 'openstack/latest/meta_data.json'));
    expect(meta.hostname).toBe('node-1.domain.tld');

    const r2 = await writeConfigDrive(ctx, planFor(disk.device, 'iso9660'), sample);
    expect(r2.bytes).toBeGreaterThan(0);
    const sig2 = await probeSignature(ctx, disk.device);
    expect(sig2).toMatchObject({ TYPE: 'iso9660', LABEL: 'config-2' });
    // The host kernel has no iso9660 driver: read it back with xorriso instead of mounting.
    await using mounts = new MountStack(ctx);
    const dir = await mounts.tempDir();
    await ctx.runner.run(['xorriso', '-osirrox', 'on', '-indev', `stdio:${disk.device}`, '-extract', '/', dir]);
    const ud = await readFile(`${dir}/openstack/latest/user_data`, 'utf8');
    expect(ud).toContain('Content-Type: multipart/mixed');
    expect(JSON.parse(await readFile(`${dir}/openstack/latest/meta_data.json`, 'utf8')).uuid).toBe(r2.instanceId);
  });
});
