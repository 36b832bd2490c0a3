// The node's block devices as the planner sees them. `provision inventory` prints
// this JSON, and `--inventory FILE` reads it back, so a plan can be made off the node.

export const INVENTORY_VERSION = 1;

export interface InventoryDisk {
  /** Kernel name: sda, nvme0n1, md127, loop0, dm-0, mapper/mpatha for multipath maps. */
  name: string;
  /** Device node: /dev/sda, /dev/mapper/mpatha. */
  path: string;
  /** Bytes. */
  size: number;
  logicalSectorSize: number;
  physicalSectorSize: number;
  rotational: boolean;
  removable: boolean;
  readOnly: boolean;
  /** lsblk TYPE: disk, loop, raid1, md, mpath, rom, … */
  type: string;
  /** udev links without the /dev/ prefix: disk/by-id/…, disk/by-path/… */
  links: string[];
  serial?: string;
  wwn?: string;
  model?: string;
  vendor?: string;
  /** Transport: sata, nvme, usb, virtio … */
  transport?: string;
}

export interface Inventory {
  version?: typeof INVENTORY_VERSION;
  disks: InventoryDisk[];
  /** How the node booted (the bootstrap runs in the firmware mode the installed OS will use). Absent: bios. */
  firmware?: 'bios' | 'uefi';
}

/** Devices the planner must never partition, whatever the data says. */
export function unusableReason(d: InventoryDisk): string | undefined {
  if (d.type === 'rom' || /^sr\d+$/.test(d.name)) return 'CD/DVD drive';
  if (d.removable) return 'removable';
  if (d.readOnly) return 'read-only';
  return undefined;
}
