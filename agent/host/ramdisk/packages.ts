// Debian packages of the bootstrap ramdisk: every tool the agent calls, plus
// the kernel (for vmlinuz and its modules) and DHCP. Installed from the mirror
// with debootstrap — no hand-copied binaries except the Node.js runtime.
export const RAMDISK_PACKAGES: readonly string[] = [
  // partitioning, RAID, LVM, filesystems
  'gdisk',
  'parted',
  'fdisk',
  'lvm2',
  'mdadm',
  'e2fsprogs',
  'xfsprogs',
  'dosfstools',
  'mtools',
  'util-linux',
  // devices and modules
  'udev',
  'kmod',
  // images
  'qemu-utils',
  'zstd',
  'xz-utils',
  'curl',
  'ca-certificates',
  // configdrive: vfat is written with mtools, the iso9660 option with xorriso
  'xorriso',
  // sudo's parser (visudo) checks the sudo rules the configdrive writes, before any disk is touched
  'sudo',
  // bootloader installation
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'grub2-common',
  // network
  'iproute2',
  'isc-dhcp-client',
  // kernel and modules
  'linux-image-amd64',
];

/** Loaded at boot before discovery even when udev would not: the storage and NIC drivers it reports on. */
export const BOOT_MODULES: readonly string[] = [
  'virtio_pci',
  'virtio_blk',
  'virtio_scsi',
  'virtio_net',
  'nvme',
  'ahci',
  'sd_mod',
  'sr_mod',
  'e1000',
  'e1000e',
];

/**
 * RAID, LVM and filesystem drivers: loaded in the background while DHCP and the daemon
 * start (seconds under TCG; xfs and ext4 alone ~2.4 s). Nothing waits for them: the
 * kernel loads each on first use anyway (device-mapper's control node, md personalities,
 * fs-* aliases), this only takes the load out of the first provisioning step's time.
 */
export const LATER_MODULES: readonly string[] = [
  'dm_mod',
  'md_mod',
  'raid0',
  'raid1',
  'raid10',
  'raid456',
  'linear',
  'loop',
  'ext4',
  'xfs',
  'vfat',
  'isofs',
  '9p',
  '9pnet_virtio',
];

/**
 * Module trees dropped from the ramdisk: nothing a provisioning node needs
 * (graphics, sound, media, wireless, exotic filesystems) — they are most of its size.
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

/** Paths (relative to the root) removed to keep the ramdisk small. */
export const PRUNED_PATHS: readonly string[] = [
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'usr/share/bug',
  'var/cache/apt',
  'var/lib/apt/lists',
  'var/cache/debconf/templates.dat-old',
  'var/log',
  'boot',
  // udev's hardware name database: nothing the agent reads.
  'usr/lib/udev/hwdb.bin',
  'usr/lib/udev/hwdb.d',
  // Pulled in by dependencies, used only by tools the agent never calls
  // (xfs_scrub's Unicode checks, xfs_scrub_all's Python).
  'usr/lib/x86_64-linux-gnu/libicudata.so.72',
  'usr/lib/x86_64-linux-gnu/libicudata.so.72.1',
  'usr/lib/python3.11',
  'usr/lib/python3',
];

/** Under kernel/drivers, kept for every kind of machine (the ramdisk's and a VM image's): ACPI, SATA/AHCI, the driver core, block devices, CD-ROMs, ttys. */
export const EVERY_MACHINE_DRIVERS: readonly string[] = ['acpi', 'ata', 'base', 'block', 'cdrom', 'char'];

/**
 * Only these trees of kernel/drivers stay (storage, RAID, NICs, buses): the
 * ramdisk unpacks into RAM, and a 1 GiB node must still have room to work.
 */
export const KEPT_DRIVER_DIRS: readonly string[] = [
  ...EVERY_MACHINE_DRIVERS,
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

/** glibc's charset converters directory, pruned down to GCONV_KEPT. */
export const GCONV_DIR = 'usr/lib/x86_64-linux-gnu/gconv';

/**
 * The converters kept: mtools (the vfat configdrive) converts short names through
 * its default DOS codepage 850 and fails without IBM850.so; the rest is ~8 MiB
 * nobody reads.
 */
export const GCONV_KEPT: readonly string[] = ['IBM850.so', 'gconv-modules', 'gconv-modules.cache', 'gconv-modules.d'];
