// Which real device a ks_spaces disk means. Names (sdX) change between boots, so
// stable udev links win: `extra` by-id links first, then `id` (a by-path/by-id
// link), then the kernel name. Removable, read-only and CD devices never match.
import { ForgeError } from '../core/errors.js';
import { normalizeLink } from '../inventory/load.js';
import { unusableReason, type Inventory, type InventoryDisk } from '../inventory/types.js';
import type { KsDisk } from '../schema/provision-data.js';

export interface DiskMatch {
  disk: InventoryDisk;
  by: 'extra' | 'id' | 'name';
  on: string;
}

function byExtra(ks: KsDisk, disks: readonly InventoryDisk[]): { hits: InventoryDisk[]; on: string } {
  const wanted = (ks.extra ?? []).map(normalizeLink).filter((l) => l.startsWith('disk/by-id/'));
  const hits = disks.filter((d) => wanted.some((w) => d.links.includes(w)));
  const on = wanted.find((w) => hits.some((d) => d.links.includes(w))) ?? '';
  return { hits, on };
}

function byId(ks: KsDisk, disks: readonly InventoryDisk[]): InventoryDisk[] {
  const id = normalizeLink(ks.id);
  if (!id.startsWith('disk/')) return [];
  return disks.filter((d) => d.links.includes(id));
}

function byName(name: string, disks: readonly InventoryDisk[]): InventoryDisk[] {
  const n = normalizeLink(name);
  return disks.filter((d) => d.name === n || d.path === `/dev/${n}`);
}

/** The candidates one rule picks, narrowed by the next rules when it picks several. */
function pick(ks: KsDisk, disks: readonly InventoryDisk[]): DiskMatch | InventoryDisk[] {
  const extra = byExtra(ks, disks);
  if (extra.hits.length === 1) return { disk: extra.hits[0]!, by: 'extra', on: extra.on };
  // by-id links are not always unique (NVMe namespaces, multipath legs report the
  // same WWN): like Fuel, settle an ambiguous set by the name, then by the id.
  if (extra.hits.length > 1) {
    const name = byName(ks.name, extra.hits);
    if (name.length === 1) return { disk: name[0]!, by: 'name', on: ks.name };
    const id = byId(ks, extra.hits);
    if (id.length === 1) return { disk: id[0]!, by: 'id', on: normalizeLink(ks.id) };
    return extra.hits;
  }
  const id = byId(ks, disks);
  if (id.length === 1) return { disk: id[0]!, by: 'id', on: normalizeLink(ks.id) };
  const name = byName(ks.name, disks);
  if (name.length === 1) return { disk: name[0]!, by: 'name', on: ks.name };
  return id.length > 1 ? id : name;
}

function describe(ks: KsDisk): string {
  const parts = [`name ${ks.name}`, `id ${ks.id}`];
  if (ks.extra?.length) parts.push(`extra ${ks.extra.join(', ')}`);
  return parts.join('; ');
}

/** Throws DISK_NOT_FOUND naming the disk when nothing (or more than one device) matches. */
export function matchDisk(ks: KsDisk, inventory: Inventory, field: string): DiskMatch {
  const usable = inventory.disks.filter((d) => unusableReason(d) === undefined);
  const r = pick(ks, usable);
  if (!Array.isArray(r)) return r;
  if (r.length > 1) {
    throw new ForgeError(
      'DISK_NOT_FOUND',
      `${field}: disk ${ks.name} is ambiguous: ${r.map((d) => d.path).join(', ')} all match (${describe(ks)})`,
      { field, details: { disk: ks.name, candidates: r.map((d) => d.path) } },
    );
  }
  // Say why when the only match is a device we refuse to touch.
  const refused = pick(ks, inventory.disks);
  const why = Array.isArray(refused) ? undefined : unusableReason(refused.disk);
  const msg = why && !Array.isArray(refused)
    ? `${field}: disk ${ks.name} matches ${refused.disk.path}, which is ${why} and is never provisioned`
    : `${field}: disk ${ks.name} not found (${describe(ks)}); devices: ${inventory.disks.map((d) => d.path).join(', ') || 'none'}`;
  throw new ForgeError('DISK_NOT_FOUND', msg, { field, details: { disk: ks.name } });
}
