// What the ramdisk's root keeps for each hardware kind: the production ramdisk (`any`)
// every storage and NIC driver directory, the lab's (`vm`) QEMU's devices only — and the
// two are different builds (different cache keys), so one never stands in for the other.
import { describe, expect, it } from 'vitest';
import { KEPT_DRIVER_DIRS, VM_DRIVERS } from '../build/hardware.js';
import { BOOT_MODULES } from './packages.js';
import { resolveRootfsInputs, rootfsKey } from './rootfs.js';

const mirror = 'http://deb.example/debian';

describe('ramdisk root inputs by hardware', () => {
  it('keeps every storage and NIC driver by default, and QEMU-only drivers for vm, under different keys', async () => {
    const any = await resolveRootfsInputs({ mirror });
    const vm = await resolveRootfsInputs({ mirror, hardware: 'vm' });
    expect(any.keptDrivers).toEqual([...KEPT_DRIVER_DIRS]);
    expect(any.keptDrivers).toEqual(expect.arrayContaining(['scsi', 'net', 'usb/storage']));
    expect(vm.keptDrivers).toEqual([...VM_DRIVERS]);
    expect(vm.keptDrivers).not.toContain('scsi');
    expect(rootfsKey(vm)).not.toBe(rootfsKey(any));
    // Everything else is the same build.
    expect({ ...vm, keptDrivers: [] }).toEqual({ ...any, keptDrivers: [] });
  });

  it('the vm list still holds every driver /init loads before discovery', () => {
    // Module file or directory per BOOT_MODULES entry, under kernel/drivers (QEMU q35 + lab NICs).
    const home: Record<string, string> = {
      virtio_pci: 'virtio', virtio_blk: 'block', virtio_scsi: 'scsi/virtio_scsi.ko', virtio_net: 'net/virtio_net.ko',
      nvme: 'nvme', ahci: 'ata', sd_mod: 'scsi/sd_mod.ko', sr_mod: 'scsi/sr_mod.ko',
      e1000: 'net/ethernet/intel/e1000', e1000e: 'net/ethernet/intel/e1000e',
    };
    expect(Object.keys(home).sort()).toEqual([...BOOT_MODULES].sort());
    for (const m of BOOT_MODULES) expect(VM_DRIVERS, m).toContain(home[m]);
  });
});
