// Inventory files: ours (`provision inventory` output) or fuel-agent's
// list_block_devices shape (bspec/espec/uspec), converted on load.
import { z } from 'zod';
import { readInputFile } from '../core/read-input.js';
import { issuesToErrors } from '../schema/issues.js';
import { parseJsonText } from '../schema/load.js';
import type { Inventory, InventoryDisk } from './types.js';

const diskSchema = z.looseObject({
  name: z.string().min(1),
  path: z.string().startsWith('/dev/'),
  size: z.number().int().nonnegative(),
  logicalSectorSize: z.union([z.literal(512), z.literal(4096)]).default(512),
  physicalSectorSize: z.number().int().positive().default(512),
  rotational: z.boolean().default(false),
  removable: z.boolean().default(false),
  readOnly: z.boolean().default(false),
  type: z.string().default('disk'),
  links: z.array(z.string()).default([]),
  serial: z.string().optional(),
  wwn: z.string().optional(),
  model: z.string().optional(),
  vendor: z.string().optional(),
  transport: z.string().optional(),
});

const inventorySchema = z.looseObject({
  version: z.literal(1).optional(),
  disks: z.array(diskSchema),
  firmware: z.enum(['bios', 'uefi']).optional(),
});

const str = z.union([z.string(), z.number()]).transform(String);
const fuelDeviceSchema = z.looseObject({
  device: z.string().startsWith('/dev/'),
  size: z.number().int().nonnegative().optional(),
  bspec: z.looseObject({ ss: str.optional(), pbsz: str.optional(), ro: str.optional(), size64: str.optional() }).optional(),
  espec: z.looseObject({ removable: str.optional() }).optional(),
  uspec: z
    .looseObject({
      DEVLINKS: z.array(z.string()).optional(),
      DEVNAME: z.string().optional(),
      DEVTYPE: z.string().optional(),
      ID_MODEL: z.string().optional(),
      ID_SERIAL_SHORT: z.string().optional(),
      ID_WWN: z.string().optional(),
      ID_BUS: z.string().optional(),
      ID_CDROM: str.optional(),
      MAJOR: str.optional(),
    })
    .optional(),
});
const fuelListSchema = z.array(fuelDeviceSchema);

/** `/dev/disk/by-id/x` and `disk/by-id/x` are the same link. */
export function normalizeLink(link: string): string {
  return link.replace(/^\/dev\//, '');
}

function deviceName(path: string): string {
  return path.replace(/^\/dev\//, '');
}

function fuelTypeOf(d: z.infer<typeof fuelDeviceSchema>): string {
  const u = d.uspec ?? {};
  if (u.ID_CDROM === '1' || u.MAJOR === '11') return 'rom';
  if (d.device.startsWith('/dev/mapper/')) return 'mpath';
  if (/^\/dev\/md\d+$/.test(d.device) || u.MAJOR === '9') return 'md';
  return 'disk';
}

function fromFuelDevice(d: z.infer<typeof fuelDeviceSchema>): InventoryDisk {
  const b = d.bspec ?? {};
  const u = d.uspec ?? {};
  const logical = Number(b.ss ?? 512) === 4096 ? 4096 : 512;
  const disk: InventoryDisk = {
    name: deviceName(d.device),
    path: d.device,
    size: d.size ?? Number(b.size64 ?? 0),
    logicalSectorSize: logical,
    physicalSectorSize: Number(b.pbsz ?? logical),
    // fuel-agent's listing does not say; the planner never relies on it.
    rotational: false,
    removable: (d.espec?.removable ?? '0') === '1',
    readOnly: (b.ro ?? '0') === '1',
    type: fuelTypeOf(d),
    links: [...new Set((u.DEVLINKS ?? []).map(normalizeLink))],
  };
  if (u.ID_SERIAL_SHORT) disk.serial = u.ID_SERIAL_SHORT;
  if (u.ID_WWN) disk.wwn = u.ID_WWN;
  if (u.ID_MODEL) disk.model = u.ID_MODEL;
  if (u.ID_BUS) disk.transport = u.ID_BUS;
  return disk;
}

function strip(d: z.infer<typeof diskSchema>): InventoryDisk {
  const out: InventoryDisk = {
    name: d.name,
    path: d.path,
    size: d.size,
    logicalSectorSize: d.logicalSectorSize,
    physicalSectorSize: d.physicalSectorSize,
    rotational: d.rotational,
    removable: d.removable,
    readOnly: d.readOnly,
    type: d.type,
    links: d.links.map(normalizeLink),
  };
  if (d.serial !== undefined) out.serial = d.serial;
  if (d.wwn !== undefined) out.wwn = d.wwn;
  if (d.model !== undefined) out.model = d.model;
  if (d.vendor !== undefined) out.vendor = d.vendor;
  if (d.transport !== undefined) out.transport = d.transport;
  return out;
}

/** Accepts `{disks: [...]}` (ours) or a bare array (fuel-agent's list_block_devices). */
export function parseInventory(json: unknown): Inventory {
  if (Array.isArray(json)) {
    const r = fuelListSchema.safeParse(json);
    if (!r.success) throw issuesToErrors('INVENTORY_INVALID', r.error.issues, json, 'inventory ');
    return { version: 1, disks: r.data.map(fromFuelDevice) };
  }
  const r = inventorySchema.safeParse(json);
  if (!r.success) throw issuesToErrors('INVENTORY_INVALID', r.error.issues, json, 'inventory ');
  const inv: Inventory = { version: 1, disks: r.data.disks.map(strip) };
  if (r.data.firmware) inv.firmware = r.data.firmware;
  return inv;
}

export async function loadInventory(path: string): Promise<Inventory> {
  const text = await readInputFile(path, { what: '--inventory' });
  return parseInventory(parseJsonText(text, path, 'INVENTORY_INVALID'));
}

