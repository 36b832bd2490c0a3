// System test: the whole `provision` run on a loop device with the real tiny OS
// image (agent/build-image, cached under $FORGE_CACHE_DIR), then the result is
// checked from outside: fstab UUIDs, GRUB in the MBR and in /boot, the configdrive
// and cloud-init's schema check of its user data. Plain partitions only: the host
// kernel has no device-mapper/MD (those layouts run in the lab's VMs).
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMultipart } from '../configdrive/mime.js';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { ExecaRunner } from '../core/runner.js';
import { singleDiskData, singleDiskInventory, singleDiskSizeMiB } from '../testing/single-disk.js';
import { createLoopDisk, findLeaks, type LoopDisk } from '../testing/loop-disks.js';
import { probeSignature } from '../tools/blkid.js';
import { MountStack } from '../tools/mount.js';
import { listFiles, mtype } from '../tools/mtools.js';
import { runProvisionCommand } from '../commands/run-command.js';
import { ensureTinyImage } from '../host/artifacts.js';
import type { BuiltImage } from '../host/image/build-image.js';
import type { ProvisionReport } from './provision-run.js';

const MiB = 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'forge-run-loop-'));
const ctx = createCtx({ runner: new ExecaRunner(), log: silentLogger });
let disk: LoopDisk;
let inputPath = '';
let inventoryPath = '';
let image: BuiltImage;

async function provision(args: string[]): Promise<{ code: number; report: ProvisionReport; err: string }> {
  const errs: string[] = [];
  const reportPath = join(work, `report-${Date.now()}.json`);
  const code = await runProvisionCommand('run', [...args, '--log', join(work, 'provision.log'), '--report', reportPath], {
    out: () => undefined,
    err: (t) => errs.push(t),
  });
  return { code, report: JSON.parse(readFileSync(reportPath, 'utf8')) as ProvisionReport, err: errs.join('\n') };
}

beforeAll(async () => {
  image = await ensureTinyImage();
  const rootMiB = Math.ceil(image.meta.raw_size / MiB) + 128;
  // fuel-agent geometry: bios_grub, the 200 MiB UEFI partition, /boot, /, swap, configdrive, each after a 1 MiB gap.
  const sizeMiB = singleDiskSizeMiB(rootMiB);
  disk = await createLoopDisk({ sizeMiB, tag: 'run' });
  const inventory = singleDiskInventory(disk.device, sizeMiB);
  inventoryPath = join(work, 'inventory.json');
  writeFileSync(inventoryPath, JSON.stringify(inventory));
  const uri = `file://${image.path}`;
  inputPath = join(work, 'provision.json');
  // The builder's <image>.meta.json beside the file supplies the digests; image_data names none.
  writeFileSync(inputPath, JSON.stringify(singleDiskData(disk.device, sizeMiB, rootMiB, uri, {})));
  // The same image without metadata beside it and a wrong md5 in image_data: the
  // only checksum is wrong, so the run fails while streaming, after partitioning.
  const bare = join(work, 'bare.img.gz');
  symlinkSync(image.path, bare);
  writeFileSync(join(work, 'bad.json'), JSON.stringify(singleDiskData(disk.device, sizeMiB, rootMiB, `file://${bare}`, { md5: '0'.repeat(32) })));
}, 3_600_000);

afterAll(async () => {
  await disk?.dispose();
  rmSync(work, { recursive: true, force: true });
  expect(await findLeaks()).toEqual({ loops: [], vgs: [], mds: [] });
});

describe('provision on a loop device', () => {
  it('a failed run stops at the image step with a typed error and a report', async () => {
    const r = await provision(['--input', join(work, 'bad.json'), '--inventory', inventoryPath]);
    expect(r.code).toBe(1);
    expect(r.report.ok).toBe(false);
    expect(r.report.stoppedAt).toBe('images');
    expect(r.report.error?.code).toBe('IMAGE_CHECKSUM_MISMATCH');
    expect(r.err).toContain('IMAGE_CHECKSUM_MISMATCH');
  }, 900_000);

  it('re-running from scratch succeeds and reports every device, image and step', async () => {
    const r = await provision(['--input', inputPath, '--inventory', inventoryPath]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.report.ok).toBe(true);
    expect(r.report.steps.map((s) => s.outcome)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(r.report.images).toHaveLength(1);
    expect(r.report.images[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.report.images[0]!.sha256).toBe(image.meta.raw_sha256);
    // The metadata gives raw_md5 and raw_sha256: checked by the stronger, md5 not computed.
    expect(r.report.images[0]!.md5).toBeUndefined();
    expect(r.report.images[0]!.bytes).toBe(image.meta.raw_size);
    expect(r.report.images[0]!.verified).toBe(true);
    const steps = new Set(r.report.devicesWritten.map((d) => d.step));
    expect([...steps]).toEqual(['partition', 'images', 'configdrive', 'bootloader']);
    const log = readFileSync(join(work, 'provision.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((e) => e.event === 'run.step.end' && e.outcome === 'ok').length).toBeGreaterThanOrEqual(6);
  }, 1_800_000);

  it('left an fstab whose UUIDs are the real ones, GRUB in the MBR and /boot, and the datasource list', async () => {
    const p = (n: number) => `${disk.device}p${n}`;
    // Layout (fuel-agent's): 1 bios_grub, 2 the 200 MiB UEFI partition, 3 /boot, 4 /, 5 swap, then the configdrive.
    const uuids = new Map<string, string>();
    for (const n of [3, 4, 5]) uuids.set(p(n), (await probeSignature(ctx, p(n))).UUID ?? '?');
    await using m = new MountStack(ctx);
    const root = await m.tempDir();
    await m.mount(p(4), root, { type: 'ext4', readOnly: true });
    await m.mount(p(3), join(root, 'boot'), { type: 'ext2', readOnly: true });
    const fstab = await readFile(join(root, 'etc/fstab'), 'utf8');
    const rows = fstab.split('\n').filter((l) => l.startsWith('UUID=')).map((l) => l.split('\t'));
    expect(rows.map((r) => r[1])).toEqual(['/', '/boot', 'none']);
    expect(rows.map((r) => r[0])).toEqual([`UUID=${uuids.get(p(4))}`, `UUID=${uuids.get(p(3))}`, `UUID=${uuids.get(p(5))}`]);
    const cfg = await readFile(join(root, 'boot/grub/grub.cfg'), 'utf8');
    expect(cfg).toContain(`root=UUID=${uuids.get(p(4))}`);
    expect(cfg).toContain('console=ttyS0,115200 net.ifnames=0');
    expect((await readFile(join(root, 'boot/grub/i386-pc/normal.mod'))).length).toBeGreaterThan(0);
    expect(await readFile(join(root, 'etc/cloud/cloud.cfg.d/99_fuel_forge_datasource.cfg'), 'utf8')).toContain('[ ConfigDrive, NoCloud ]');
    const fh = await open(disk.device, 'r');
    const mbr = Buffer.alloc(512);
    await fh.read(mbr, 0, 512, 0);
    await fh.close();
    expect(mbr.includes(Buffer.from('GRUB'))).toBe(true);
    expect(mbr.readUInt16LE(510)).toBe(0xaa55);
  });

  it('left a config-2 configdrive whose user data passes cloud-init schema', async () => {
    const cd = `${disk.device}p6`;
    expect(await probeSignature(ctx, cd)).toMatchObject({ TYPE: 'vfat', LABEL: 'config-2' });
    const files = await listFiles(ctx, cd);
    for (const f of ['openstack/latest/meta_data.json', 'openstack/latest/user_data', 'meta-data', 'user-data']) expect(files).toContain(f);
    const meta = JSON.parse(await mtype(ctx, cd, 'openstack/latest/meta_data.json'));
    expect(meta.hostname).toBe('node-1.domain.tld');
    const parts = parseMultipart(await mtype(ctx, cd, 'openstack/latest/user_data'));
    const cc = parts.find((x) => x.contentType === 'text/cloud-config')!;
    const f = join(work, 'cc.yaml');
    writeFileSync(f, cc.body);
    const r = await ctx.runner.run(['cloud-init', 'schema', '--config-file', f]);
    expect(r.stdout).toContain('Valid cloud-config');
  });
});
