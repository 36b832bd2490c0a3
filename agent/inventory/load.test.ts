import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ForgeErrors } from '../core/errors.js';
import { NAILGUN_DIR } from '../plan/fixtures.js';
import { loadInventory, parseInventory } from './load.js';
import { unusableReason } from './types.js';

describe('loadInventory', () => {
  it("converts fuel-agent's list_block_devices shape", async () => {
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_sample.json`);
    expect(inv.disks.map((d) => d.path)).toEqual(['/dev/sda', '/dev/sdb', '/dev/sdc', '/dev/md123']);
    const sda = inv.disks[0]!;
    expect(sda).toMatchObject({
      name: 'sda',
      size: 500107862016,
      logicalSectorSize: 512,
      physicalSectorSize: 4096,
      removable: false,
      readOnly: false,
      type: 'disk',
      serial: 'fake_serial_1',
      wwn: 'fake_wwn_1',
      model: 'fake_id_model',
    });
    // Links lose their /dev/ prefix whether or not the source had it.
    expect(sda.links).toContain('disk/by-id/scsi-SATA_VBOX_HARDDISK_VB69050467-b385c7cd');
    expect(sda.links).toContain('disk/by-id/ata-VBOX_HARDDISK_VB69050467-b385c7cd');
    expect(sda.links).toContain('disk/by-path/pci-0000:00:1f.2-scsi-0:0:0:0');
    expect(inv.disks[3]!.type).toBe('md');
  });

  it('names multipath maps by their mapper path', async () => {
    const inv = await loadInventory(`${NAILGUN_DIR}list_block_devices_mpath.json`);
    const m = inv.disks.find((d) => d.path === '/dev/mapper/12312');
    expect(m).toMatchObject({ name: 'mapper/12312', type: 'mpath' });
  });

  it('reads our own shape back, with defaults for optional flags', () => {
    const inv = parseInventory({ disks: [{ name: 'vda', path: '/dev/vda', size: 4 << 30, links: ['/dev/disk/by-id/virtio-x'] }] });
    expect(inv.disks[0]).toEqual({
      name: 'vda', path: '/dev/vda', size: 4 << 30, logicalSectorSize: 512, physicalSectorSize: 512,
      rotational: false, removable: false, readOnly: false, type: 'disk', links: ['disk/by-id/virtio-x'],
    });
  });

  it('rejects a bad inventory with the path of each problem', async () => {
    let err: unknown;
    try {
      parseInventory({ disks: [{ name: 'vda', path: 'vda', size: -1, logicalSectorSize: 1024 }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForgeErrors);
    const fields = (err as ForgeErrors).errors.map((e) => [e.code, e.field]);
    expect(fields).toEqual([
      ['INVENTORY_INVALID', 'disks[0].path'],
      ['INVENTORY_INVALID', 'disks[0].size'],
      ['INVENTORY_INVALID', 'disks[0].logicalSectorSize'],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'forge-inv-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'x.json'), 'nope');
    await expect(loadInventory(join(dir, 'x.json'))).rejects.toMatchObject({ code: 'INVENTORY_INVALID' });
  });

  it('marks CD, removable and read-only devices unusable', () => {
    const base = parseInventory({ disks: [{ name: 'sda', path: '/dev/sda', size: 1 }] }).disks[0]!;
    expect(unusableReason(base)).toBeUndefined();
    expect(unusableReason({ ...base, type: 'rom' })).toMatch(/CD/);
    expect(unusableReason({ ...base, removable: true })).toBe('removable');
    expect(unusableReason({ ...base, readOnly: true })).toBe('read-only');
  });
});
