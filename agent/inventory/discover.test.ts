import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner, type Responder } from '../core/runner.js';
import { lsblkDisksArgv } from '../tools/lsblk.js';
import { udevPropertiesArgv } from '../tools/udevadm-info.js';
import { discoverInventory } from './discover.js';

const lsblkJson = (devs: object[]) => JSON.stringify({ blockdevices: devs });
const dev = (o: Record<string, unknown>) => ({
  name: 'sda', path: '/dev/sda', size: 4294967296, 'log-sec': 512, 'phy-sec': 4096, rota: true, rm: false, ro: false,
  type: 'disk', serial: null, wwn: null, model: null, vendor: null, tran: null, ...o,
});

function ctxWith(respond: Responder) {
  const runner = new RecordingRunner({ respond });
  return { runner, ctx: createCtx({ runner, log: silentLogger }) };
}

describe('discoverInventory', () => {
  it('combines lsblk columns with udev links, serial and WWN', async () => {
    const { runner, ctx } = ctxWith((argv) => {
      if (argv[0] === 'lsblk') {
        return {
          stdout: lsblkJson([
            dev({}),
            dev({ name: 'nvme0n1', path: '/dev/nvme0n1', 'log-sec': 4096, rota: false, serial: 'S1', tran: 'nvme' }),
            dev({ name: 'zram0', path: '/dev/zram0', size: 0 }),
            dev({ name: 'loop7', path: '/dev/loop7', size: 0, type: 'loop' }),
            dev({ name: 'dm-0', path: '/dev/dm-0', type: 'lvm' }),
          ]),
        };
      }
      if (argv.includes('--name=/dev/sda')) {
        return {
          stdout:
            'DEVNAME=/dev/sda\nDEVLINKS=/dev/disk/by-path/pci-0000:00:1f.2-ata-1 /dev/disk/by-id/ata-QEMU_HARDDISK_QM1\n' +
            'ID_SERIAL_SHORT=QM1\nID_WWN=0x5000c500\nID_MODEL=QEMU_HARDDISK\nID_BUS=ata\n',
        };
      }
      return { stdout: 'DEVNAME=/dev/nvme0n1\nDEVTYPE=disk\n' };
    });
    const inv = await discoverInventory(ctx);
    expect(runner.calls).toEqual([lsblkDisksArgv(), udevPropertiesArgv('/dev/sda'), udevPropertiesArgv('/dev/nvme0n1')]);
    expect(runner.calls[0]).toEqual(['lsblk', '--json', '--bytes', '--nodeps', '-o', 'NAME,PATH,SIZE,LOG-SEC,PHY-SEC,ROTA,RM,RO,TYPE,SERIAL,WWN,MODEL,VENDOR,TRAN']);
    expect(inv.disks).toEqual([
      {
        name: 'sda', path: '/dev/sda', size: 4294967296, logicalSectorSize: 512, physicalSectorSize: 4096,
        rotational: true, removable: false, readOnly: false, type: 'disk',
        links: ['disk/by-id/ata-QEMU_HARDDISK_QM1', 'disk/by-path/pci-0000:00:1f.2-ata-1'],
        serial: 'QM1', wwn: '0x5000c500', model: 'QEMU_HARDDISK', transport: 'ata',
      },
      {
        // No udev database: links stay empty, lsblk's own columns fill in.
        name: 'nvme0n1', path: '/dev/nvme0n1', size: 4294967296, logicalSectorSize: 4096, physicalSectorSize: 4096,
        rotational: false, removable: false, readOnly: false, type: 'disk', links: [], serial: 'S1', transport: 'nvme',
      },
    ]);
  });

  it('accepts old lsblk output with strings for numbers and flags', async () => {
    const { ctx } = ctxWith((argv) =>
      argv[0] === 'lsblk'
        ? { stdout: lsblkJson([dev({ size: '1073741824', 'log-sec': '4096', rota: '0', rm: '1', ro: '0' })]) }
        : { exitCode: 1 },
    );
    const inv = await discoverInventory(ctx);
    expect(inv.disks[0]).toMatchObject({ size: 1073741824, logicalSectorSize: 4096, rotational: false, removable: true, links: [] });
  });

  it('records the firmware the node booted with: uefi when the kernel has /sys/firmware/efi', async () => {
    const { ctx } = ctxWith((argv) => (argv[0] === 'lsblk' ? { stdout: lsblkJson([dev({})]) } : { exitCode: 1 }));
    const dir = mkdtempSync(join(tmpdir(), 'forge-efi-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    expect((await discoverInventory(ctx, { efiDir: dir })).firmware).toBe('uefi');
    expect((await discoverInventory(ctx, { efiDir: join(dir, 'absent') })).firmware).toBe('bios');
  });

  it('says "no disks found" with the loaded modules when nothing is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-disc-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const mods = join(dir, 'modules');
    writeFileSync(mods, 'virtio_net 61440 0 - Live 0x0\nloop 32768 0 - Live 0x0\n');
    const { ctx } = ctxWith(() => ({ stdout: lsblkJson([dev({ name: 'loop0', path: '/dev/loop0', size: 0, type: 'loop' })]) }));
    await expect(discoverInventory(ctx, { procModules: mods })).rejects.toMatchObject({
      code: 'DEVICE_NOT_READY',
      message: expect.stringMatching(/^no disks found: .*loaded modules: loop virtio_net$/),
    });
    await expect(discoverInventory(ctx, { procModules: join(dir, 'none') })).rejects.toThrow(/no \/proc\/modules/);
  });
});
