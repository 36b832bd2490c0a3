// Which hardware a root filesystem we build is for, and so which kernel module
// trees it keeps. `any` keeps every storage and NIC driver (a real rack has every kind
// of NIC and HBA); `vm` keeps what QEMU's lab machines present (virtio, NVMe, AHCI,
// e1000, MD/DM) — for the lab's OS images and its bootstrap ramdisk, which every lab
// boot reads and unpacks under TCG. Shared by agent/host/image and agent/host/ramdisk.

export type Hardware = 'any' | 'vm';
export const HARDWARE: readonly Hardware[] = ['any', 'vm'];

/**
 * Module trees dropped from the bootstrap ramdisk and from VM images (an `any` OS image
 * keeps them): nothing a provisioning node or a lab VM needs (graphics, sound, media, wireless, exotic
 * filesystems) — they are most of the modules' size.
 */
export const PRUNED_MODULE_DIRS: readonly string[] = [
  'sound',
  'drivers/gpu',
  'drivers/media',
  'drivers/infiniband',
  'drivers/iio',
  'drivers/staging',
  'drivers/comedi',
  'drivers/hwmon',
  'drivers/bluetooth',
  'drivers/isdn',
  'drivers/net/wireless',
  'drivers/net/wwan',
  'drivers/net/can',
  'drivers/net/ieee802154',
  'drivers/usb/serial',
  'drivers/usb/gadget',
  'drivers/video',
  'drivers/leds',
  'drivers/w1',
  'drivers/nfc',
  'drivers/input/touchscreen',
  'drivers/input/joystick',
  'drivers/input/tablet',
  'drivers/input/misc',
  'drivers/platform/chrome',
  'drivers/watchdog',
  'drivers/mtd',
  'drivers/spi',
  'drivers/thunderbolt',
  'drivers/fpga',
  'drivers/misc',
  'drivers/mmc',
  'drivers/power/supply',
  'net/wireless',
  'net/mac80211',
  'net/bluetooth',
  'net/ieee802154',
  'net/nfc',
  'net/can',
  'net/6lowpan',
  'fs/ocfs2',
  'fs/gfs2',
  'fs/ceph',
  'fs/smb',
  'fs/nfs',
  'fs/nfsd',
  'fs/ntfs3',
  'fs/reiserfs',
  'fs/jfs',
  'fs/orangefs',
  'fs/afs',
  'fs/coda',
  'fs/ubifs',
  'fs/f2fs',
  'fs/nilfs2',
  'fs/dlm',
];

/** Under kernel/drivers, kept for every kind of machine: ACPI, SATA/AHCI, the driver core, block devices, CD-ROMs, ttys. */
const EVERY_MACHINE: readonly string[] = ['acpi', 'ata', 'base', 'block', 'cdrom', 'char'];

/**
 * The bootstrap ramdisk for any hardware keeps only these trees of kernel/drivers
 * (storage, RAID, NICs, buses): it unpacks into RAM, and a 1 GiB node must still have
 * room to work. (An `any` OS image keeps every driver.)
 */
export const KEPT_DRIVER_DIRS: readonly string[] = [
  ...EVERY_MACHINE,
  'dma',
  'firmware',
  'iommu',
  'md',
  'message',
  'net',
  'nvme',
  'pci',
  'scsi',
  'usb/storage',
  'usb/host',
  'usb/core',
  'usb/common',
  'virtio',
  'vhost',
];

/** Under kernel/drivers: QEMU's q35 machine with the lab's disks and NICs (a VM image or ramdisk). */
export const VM_DRIVERS: readonly string[] = [
  ...EVERY_MACHINE,
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
