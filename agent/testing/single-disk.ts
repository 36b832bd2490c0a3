// The one-disk node the run tests provision on a loop device: Nailgun's sample
// data with its ks_spaces cut to fuel-agent's layout on that disk, and an
// inventory naming only that disk.
import { readFileSync } from 'node:fs';

const MiB = 1024 * 1024;

/** Disk size for a root of `rootMiB`: bios_grub, UEFI, /boot, /, swap, configdrive, each after a 1 MiB gap. */
export function singleDiskSizeMiB(rootMiB: number): number {
  return 1 + 24 + 1 + 200 + 1 + 200 + 1 + rootMiB + 1 + 64 + 1 + 20 + 8;
}

export function singleDiskInventory(device: string, sizeMiB: number): unknown {
  return {
    version: 1,
    disks: [{
      name: device.replace('/dev/', ''), path: device, size: sizeMiB * MiB, logicalSectorSize: 512, physicalSectorSize: 512,
      rotational: false, removable: false, readOnly: false, type: 'loop', links: [],
    }],
  };
}

/** Provision data for `device`: one gzip ext4 image for `/` at `imageUri`, digests from `sums` (or beside the image). */
export function singleDiskData(device: string, sizeMiB: number, rootMiB: number, imageUri: string, sums: Record<string, unknown> = {}): Record<string, any> {
  const name = device.replace('/dev/', '');
  const data = JSON.parse(readFileSync(new URL('../../fixtures/fuel-nailgun/provision_sample.json', import.meta.url), 'utf8'));
  data.ks_meta.pm_data.kernel_params = 'console=ttyS0,115200 net.ifnames=0';
  data.ks_meta.pm_data.ks_spaces = [{
    type: 'disk', id: name, name, size: sizeMiB, extra: [],
    volumes: [
      { type: 'boot', size: 300 },
      { type: 'partition', name: 'Boot', mount: '/boot', file_system: 'ext2', size: 200 },
      { type: 'partition', name: 'Root', mount: '/', file_system: 'ext4', size: rootMiB },
      { type: 'partition', name: 'Swap', mount: 'swap', file_system: 'swap', size: 64 },
    ],
  }];
  data.ks_meta.image_data = { '/': { uri: imageUri, format: 'ext4', container: 'gzip', ...sums } };
  return data;
}
