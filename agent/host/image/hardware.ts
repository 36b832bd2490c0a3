// Which hardware an image is built for. `any` (the default) keeps every module
// Debian ships: a real rack has every kind of NIC and HBA. `vm` keeps what QEMU's
// lab machines present (virtio, NVMe, AHCI, e1000, MD/DM, the filesystems) and
// drops the rest — most of the kernel's 390 MB of modules, which every lab node
// would otherwise write to disk, load into its initramfs (MODULES=most takes what
// is there) and have udev walk on every boot.
import type { PruneSpec } from '../build/prune-root.js';
import { EVERY_MACHINE_DRIVERS, PRUNED_MODULE_DIRS } from '../ramdisk/packages.js';

export type ImageHardware = 'any' | 'vm';
export const IMAGE_HARDWARE: readonly ImageHardware[] = ['any', 'vm'];

/** Under kernel/drivers: QEMU's q35 machine with the lab's disks and NICs. */
export const VM_DRIVERS: readonly string[] = [
  ...EVERY_MACHINE_DRIVERS,
  'firmware',
  // evdev too: systemd-logind hears the ACPI power button through it (no evdev, no clean power-off).
  'input',
  'md',
  'nvme',
  'pci',
  // SCSI's core and the disk/CD/generic drivers (AHCI disks are sd_mod's; virtio-scsi for a
  // lab that adds one), not the ~70 HBA drivers beside them: those were 21 of the VM
  // initramfs' 46 MB of modules, which GRUB reads through the BIOS on every boot from disk
  // (~3 MB/s under TCG).
  'scsi/scsi_mod.ko',
  'scsi/scsi_common.ko',
  'scsi/sd_mod.ko',
  'scsi/sr_mod.ko',
  'scsi/sg.ko',
  'scsi/virtio_scsi.ko',
  'virtio',
  'net/virtio_net.ko',
  'net/net_failover.ko',
  'net/bonding',
  'net/tun.ko',
  'net/veth.ko',
  'net/macvlan.ko',
  'net/ethernet/intel/e1000',
  'net/ethernet/intel/e1000e',
  // e1000e's clock.
  'ptp',
  'pps',
];

/**
 * Paths a VM image never reads: translations, manuals, docs. (Locale
 * definitions live in /usr/lib/locale and /usr/share/i18n and stay.)
 */
export const VM_PRUNED_PATHS: readonly string[] = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale'];

export function pruneSpecFor(hardware: ImageHardware): PruneSpec | undefined {
  if (hardware === 'any') return undefined;
  // The ramdisk's list covers the trees outside drivers/ too (sound, wireless, exotic filesystems).
  return { prunedModules: PRUNED_MODULE_DIRS, keptDrivers: VM_DRIVERS, prunedPaths: VM_PRUNED_PATHS };
}
