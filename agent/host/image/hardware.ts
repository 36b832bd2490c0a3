// Which hardware an image is built for. `any` (the default) keeps every module
// Debian ships: a real rack has every kind of NIC and HBA. `vm` keeps what QEMU's
// lab machines present (virtio, NVMe, AHCI, e1000, MD/DM, the filesystems) and
// drops the rest — most of the kernel's 390 MB of modules, which every lab node
// would otherwise write to disk, load into its initramfs (MODULES=most takes what
// is there) and have udev walk on every boot.
import { HARDWARE, type Hardware, PRUNED_MODULE_DIRS, VM_DRIVERS } from '../build/hardware.js';
import type { PruneSpec } from '../build/prune-root.js';

export type ImageHardware = Hardware;
export const IMAGE_HARDWARE: readonly ImageHardware[] = HARDWARE;

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
