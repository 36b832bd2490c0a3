import { describe, expect, it } from 'vitest';
import { ForgeError } from '../core/errors.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory, InventoryDisk } from '../inventory/types.js';
import type { KsDisk } from '../schema/provision-data.js';
import { NAILGUN_DIR } from './fixtures.js';
import { matchDisk } from './match.js';

const ks = (o: Partial<KsDisk>): KsDisk => ({ type: 'disk', id: 'x', name: 'x', size: 100, volumes: [], ...o });
const disk = (o: Partial<InventoryDisk>): InventoryDisk => ({
  name: 'sda', path: '/dev/sda', size: 1 << 30, logicalSectorSize: 512, physicalSectorSize: 512,
  rotational: false, removable: false, readOnly: false, type: 'disk', links: [], ...o,
});

function fails(fn: () => unknown): ForgeError {
  try {
    fn();
  } catch (e) {
    return e as ForgeError;
  }
  throw new Error('expected a failure');
}

describe('matchDisk', () => {
  it('matches by an extra by-id link before the name', async () => {
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample.json`);
    // The name says sdc, the by-id link says sdb: the link wins (names move between boots).
    const m = matchDisk(ks({ name: 'sdc', id: 'sdc', extra: ['disk/by-id/ata-VBOX_HARDDISK_VBf2923215-708af674'] }), inv, 'f');
    expect(m).toEqual({ disk: inv.disks[1], by: 'extra', on: 'disk/by-id/ata-VBOX_HARDDISK_VBf2923215-708af674' });
  });

  it('matches by id (a by-path link) when extra does not match', async () => {
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample.json`);
    const m = matchDisk(ks({ name: 'sda', id: 'disk/by-path/pci-0000:00:0d.0-scsi-0:0:0:0', extra: ['disk/by-id/nothing'] }), inv, 'f');
    expect([m.disk.path, m.by]).toEqual(['/dev/sdc', 'id']);
  });

  it('falls back to the kernel name, with or without /dev/', async () => {
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample.json`);
    expect(matchDisk(ks({ name: 'sdb', id: 'sdb', extra: ['sdb'] }), inv, 'f')).toMatchObject({ by: 'name', on: 'sdb', disk: { path: '/dev/sdb' } });
    expect(matchDisk(ks({ name: 'md123', id: 'md123' }), inv, 'f').disk.path).toBe('/dev/md123');
  });

  it('settles duplicate by-id links (NVMe, multipath) by name, like Fuel', async () => {
    const nvme = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample_nvme.json`);
    const m = matchDisk(ks({ name: 'nvme0n1', id: 'disk/by-path/pci-0000:05:00.0', extra: ['disk/by-id/wwn-0x65cd2e4080864356494e000000010000'] }), nvme, 'f');
    expect([m.disk.path, m.by]).toEqual(['/dev/nvme0n1', 'name']);
    const mpath = await loadInventory(`${NAILGUN_DIR}list_block_devices_mpath.json`);
    const mp = matchDisk(ks({ name: 'mapper/12312', id: 'dm-0', extra: ['disk/by-id/wwn-fake_wwn_1'] }), mpath, 'f');
    expect(mp.disk.path).toBe('/dev/mapper/12312');
  });

  it('is ambiguous, not a guess, when several devices share every identifier', () => {
    const inv: Inventory = { disks: [disk({ links: ['disk/by-id/same'] }), disk({ name: 'sdb', path: '/dev/sdb', links: ['disk/by-id/same'] })] };
    const e = fails(() => matchDisk(ks({ name: 'sdz', extra: ['disk/by-id/same'] }), inv, 'ks_meta.pm_data.ks_spaces[0]'));
    expect(e.code).toBe('DISK_NOT_FOUND');
    expect(e.message).toMatch(/ambiguous: \/dev\/sda, \/dev\/sdb/);
  });

  it('names the disk it cannot find', () => {
    const e = fails(() => matchDisk(ks({ name: 'sdq', id: 'sdq', extra: ['disk/by-id/gone'] }), { disks: [disk({})] }, 'ks_meta.pm_data.ks_spaces[2]'));
    expect(e).toMatchObject({ code: 'DISK_NOT_FOUND', field: 'ks_meta.pm_data.ks_spaces[2]' });
    expect(e.message).toMatch(/disk sdq not found .*devices: \/dev\/sda/);
  });

  it.each([
    ['removable', { removable: true }, /removable/],
    ['read-only', { readOnly: true }, /read-only/],
    ['a CD drive', { type: 'rom', name: 'sr0', path: '/dev/sr0' }, /CD\/DVD/],
  ])('never matches %s devices', (_w, over, why) => {
    const d = disk({ links: ['disk/by-id/usb-stick'], ...over });
    const e = fails(() => matchDisk(ks({ name: d.name, extra: ['disk/by-id/usb-stick'] }), { disks: [d] }, 'f'));
    expect(e.code).toBe('DISK_NOT_FOUND');
    expect(e.message).toMatch(why);
  });
});
