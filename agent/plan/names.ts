// Device names the kernel (and device-mapper) will give what we create, so the
// plan can name every node before it exists.

/**
 * Partition N of a whole-disk device, as the kernel names it: a `p` goes between
 * the disk name and the number when the name ends in a digit (nvme0n1p3, md127p3,
 * loop0p3, mmcblk0p3), none otherwise (sda3). Multipath maps use `-partN`
 * (kpartx's separator on Debian/Ubuntu).
 */
export function partitionDevice(disk: string, num: number): string {
  if (disk.startsWith('/dev/mapper/')) return `${disk}-part${num}`;
  return /\d$/.test(disk) ? `${disk}p${num}` : `${disk}${num}`;
}

/** device-mapper doubles dashes inside VG and LV names, then joins them with one. */
export function lvDevice(vg: string, lv: string): string {
  const esc = (s: string) => s.replaceAll('-', '--');
  return `/dev/mapper/${esc(vg)}-${esc(lv)}`;
}

/** md device for an array created by name (mdadm makes /dev/md/<name>). */
export function mdDevice(name: string): string {
  return `/dev/md/${name}`;
}

/** NVMe namespaces: firmware on many boards cannot boot /boot from them in BIOS mode. */
export function isNvme(deviceOrName: string): boolean {
  return /(^|\/)nvme\d+n\d+$/.test(deviceOrName) || deviceOrName.includes('nvme');
}

/** GPT partition names hold at most 36 UTF-16 code units. */
export function gptName(s: string): string {
  return s.slice(0, 36);
}
