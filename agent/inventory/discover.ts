// The node's disks: lsblk for sizes and flags, udev properties for stable links,
// serial and WWN. A ramdisk missing its storage driver sees no disks at all, so
// that case fails here, loudly, naming the loaded modules (field failure 13).
import { access, readFile } from 'node:fs/promises';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { listDisks, type LsblkDevice } from '../tools/lsblk.js';
import { udevProperties } from '../tools/udevadm-info.js';
import { normalizeLink } from './load.js';
import { INVENTORY_VERSION, type Inventory, type InventoryDisk } from './types.js';

/** Whole devices worth planning on; partitions, LVs, dm-crypt and RAM disks are not. */
export function isCandidate(d: LsblkDevice): boolean {
  if (d.size <= 0) return false; // unattached loop devices, empty card readers
  if (/^(ram|zram)\d+$/.test(d.name)) return false;
  return !['part', 'lvm', 'crypt'].includes(d.type);
}

export function toInventoryDisk(d: LsblkDevice, udev: Record<string, string> | undefined): InventoryDisk {
  const u = udev ?? {};
  const disk: InventoryDisk = {
    name: d.name,
    path: d.path,
    size: d.size,
    logicalSectorSize: d.logSec,
    physicalSectorSize: d.phySec,
    rotational: d.rota,
    removable: d.rm,
    readOnly: d.ro,
    type: u.ID_CDROM === '1' ? 'rom' : d.type,
    links: [...new Set((u.DEVLINKS ?? '').split(/\s+/).filter(Boolean).map(normalizeLink))].sort(),
  };
  const serial = u.ID_SERIAL_SHORT ?? u.ID_SERIAL ?? d.serial;
  const wwn = u.ID_WWN_WITH_EXTENSION ?? u.ID_WWN ?? d.wwn;
  const model = u.ID_MODEL ?? d.model;
  const transport = u.ID_BUS ?? d.tran;
  if (serial) disk.serial = serial;
  if (wwn) disk.wwn = wwn;
  if (model) disk.model = model;
  if (d.vendor) disk.vendor = d.vendor;
  if (transport) disk.transport = transport;
  return disk;
}

async function loadedModules(procModules: string): Promise<string[] | undefined> {
  try {
    const text = await readFile(procModules, 'utf8');
    return text.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean).sort();
  } catch {
    return undefined;
  }
}

export interface DiscoverOptions {
  /** For tests; the real one is /proc/modules. */
  procModules?: string;
  /** For tests; the real one is /sys/firmware/efi (present only when the kernel was booted by UEFI). */
  efiDir?: string;
}

async function bootedByUefi(dir: string): Promise<boolean> {
  try {
    await access(dir);
    return true;
  } catch {
    return false;
  }
}

export async function discoverInventory(ctx: Ctx, opts: DiscoverOptions = {}): Promise<Inventory> {
  const devices = (await listDisks(ctx)).filter(isCandidate);
  const disks: InventoryDisk[] = [];
  for (const d of devices) disks.push(toInventoryDisk(d, await udevProperties(ctx, d.path)));
  if (disks.length === 0) {
    const mods = await loadedModules(opts.procModules ?? '/proc/modules');
    const modText = mods === undefined ? 'no /proc/modules' : mods.length ? mods.join(' ') : 'none';
    throw new ForgeError(
      'DEVICE_NOT_READY',
      `no disks found: lsblk lists no whole block device (is the storage driver in the ramdisk?); loaded modules: ${modText}`,
      { details: { modules: mods ?? null } },
    );
  }
  const firmware = (await bootedByUefi(opts.efiDir ?? '/sys/firmware/efi')) ? 'uefi' : 'bios';
  return { version: INVENTORY_VERSION, disks, firmware };
}
