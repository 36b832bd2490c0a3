import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOUD_INIT_PYTHON } from '../testing/cloud-init.js';
import { privateDebconf } from '../testing/debconf-db.js';
import { diskIdOf, grubDpkgCloudCfg, grubPcSelections, installDevicesOf, parseDebconfShow } from './grub-pc-devices.js';

const tmp = mkdtempSync(join(tmpdir(), 'forge-grub-pc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('diskIdOf', () => {
  it('names a disk by its first by-id link in glob order, as grub-pc\'s device_to_id does; partitions and dangling links are not it', () => {
    const dev = join(tmp, 'dev');
    const byId = join(dev, 'disk/by-id');
    mkdirSync(byId, { recursive: true });
    for (const f of ['vda', 'vda1', 'vdb', 'vdc']) writeFileSync(join(dev, f), '');
    symlinkSync('../../vda', join(byId, 'wwn-0x5000c500a1b2c3d4'));
    symlinkSync('../../vda', join(byId, 'virtio-forge-disk1'));
    symlinkSync('../../vda1', join(byId, 'virtio-forge-disk1-part1'));
    symlinkSync('../../vdb', join(byId, 'virtio-forge-disk2'));
    symlinkSync('../../gone', join(byId, 'ata-dangling'));
    expect(diskIdOf(join(dev, 'vda'), byId)).toBe(join(byId, 'virtio-forge-disk1'));
    expect(diskIdOf(join(dev, 'vdb'), byId)).toBe(join(byId, 'virtio-forge-disk2'));
    // Given by a link itself, the same disk, the same name.
    expect(diskIdOf(join(byId, 'wwn-0x5000c500a1b2c3d4'), byId)).toBe(join(byId, 'virtio-forge-disk1'));
    expect(diskIdOf(join(dev, 'vdc'), byId)).toBeUndefined();
    expect(diskIdOf(join(dev, 'vda'), join(tmp, 'no-such-dir'))).toBeUndefined();
  });
});

describe('grubPcSelections', () => {
  it('is read back by debconf itself as grub-pc\'s answer: every disk, and the list not empty', () => {
    // A private debconf database: the host's own is never touched.
    const env = privateDebconf(join(tmp, 'debconf'));
    const disks = ['/dev/disk/by-id/virtio-forge-disk1', '/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_forge-n1-1', '/dev/vdc'];
    const set = spawnSync('debconf-set-selections', [], { input: grubPcSelections(disks), env, encoding: 'utf8' });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stderr).toBe('');
    const show = spawnSync('debconf-show', ['grub-pc'], { env, encoding: 'utf8' });
    expect(show.status, show.stderr).toBe(0);
    const answers = parseDebconfShow(show.stdout);
    // As grub-pc's postinst reads it: split on blanks, each trailing comma dropped.
    expect(installDevicesOf(answers['grub-pc/install_devices'] as string)).toEqual(disks);
    expect(answers['grub-pc/install_devices_empty']).toBe('false');
  });

  it('refuses what would change the answer\'s meaning: none, a blank or a comma in a name, not a /dev path', () => {
    expect(() => grubPcSelections([])).toThrow(expect.objectContaining({ code: 'BOOTLOADER_FAILED' }));
    for (const bad of ['/dev/disk/by-id/a, /dev/sdb', '/dev/sd a', 'sda', '/dev/sda\ngrub-pc grub-pc/x string y']) {
      expect(() => grubPcSelections([bad]), bad).toThrow(expect.objectContaining({ code: 'BOOTLOADER_FAILED' }));
    }
  });
});

describe('grubDpkgCloudCfg', () => {
  it('turns cloud-init\'s grub_dpkg off, as cloud-init\'s own loader and schema read it', () => {
    const file = join(tmp, 'grub-dpkg.cfg');
    writeFileSync(file, grubDpkgCloudCfg());
    const py = [
      'import json, sys',
      'from cloudinit import safeyaml',
      'from cloudinit.config.schema import get_schema, validate_cloudconfig_schema',
      'cfg = safeyaml.load(open(sys.argv[1]).read())',
      'validate_cloudconfig_schema(cfg, get_schema(), strict=True)',
      'print(json.dumps(cfg))',
    ].join('\n');
    const r = spawnSync(CLOUD_INIT_PYTHON, ['-c', py, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ grub_dpkg: { enabled: false } });
  });
});
