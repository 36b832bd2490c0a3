import { describe, expect, it } from 'vitest';
import { isNvme, lvDevice, partitionDevice } from './names.js';

describe('device names', () => {
  it.each([
    ['/dev/sda', '/dev/sda3'],
    ['/dev/vdb', '/dev/vdb3'],
    ['/dev/nvme0n1', '/dev/nvme0n1p3'],
    ['/dev/md127', '/dev/md127p3'],
    ['/dev/loop0', '/dev/loop0p3'],
    ['/dev/mmcblk0', '/dev/mmcblk0p3'],
    ['/dev/mapper/mpatha', '/dev/mapper/mpatha-part3'],
  ])('partition 3 of %s is %s', (disk, part) => {
    expect(partitionDevice(disk, 3)).toBe(part);
  });

  it('doubles dashes in VG and LV names like device-mapper', () => {
    expect(lvDevice('os', 'root')).toBe('/dev/mapper/os-root');
    expect(lvDevice('data-vg', 'srv-data')).toBe('/dev/mapper/data--vg-srv--data');
  });

  it('recognises NVMe devices', () => {
    expect(isNvme('/dev/nvme1n1')).toBe(true);
    expect(isNvme('sda')).toBe(false);
  });
});
