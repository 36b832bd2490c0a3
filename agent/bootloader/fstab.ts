// /etc/fstab by filesystem UUID for every planned filesystem and swap (pure).
import type { PlannedFs } from '../plan/types.js';

export interface FstabEntry {
  device: string;
  uuid: string;
  mount: string;
  type: string;
  options: string;
  pass: number;
}

/** Root is checked first, other checkable filesystems after it; xfs, vfat-less checks and swap never. */
function passFor(fs: PlannedFs): number {
  if (fs.type === 'swap' || fs.type === 'xfs') return 0;
  return fs.mount === '/' ? 1 : 2;
}

export function fstabEntries(fss: readonly PlannedFs[], uuids: ReadonlyMap<string, string>): FstabEntry[] {
  return fss
    .filter((fs) => fs.type === 'swap' || fs.mount.startsWith('/'))
    .map((fs) => ({
      device: fs.device,
      uuid: uuids.get(fs.device) ?? '',
      mount: fs.type === 'swap' ? 'none' : fs.mount,
      type: fs.type,
      options: fs.mountOptions || (fs.type === 'swap' ? 'sw' : 'defaults'),
      pass: passFor(fs),
    }))
    .sort((a, b) => mountDepth(a.mount) - mountDepth(b.mount) || a.mount.localeCompare(b.mount));
}

/** `/` = 0, `/boot` = 1, `/boot/efi` = 2; swap last. */
export function mountDepth(mount: string): number {
  if (!mount.startsWith('/')) return 1000;
  return mount === '/' ? 0 : mount.split('/').length - 1;
}

/** fstab(5) octal escapes: a space, tab, newline or backslash in a field would split or end the line. */
export function fstabEscape(field: string): string {
  return field.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export function renderFstab(entries: readonly FstabEntry[]): string {
  const lines = ['# /etc/fstab: written by fuel-forge (filesystems by UUID)', '# <file system> <mount point> <type> <options> <dump> <pass>'];
  for (const e of entries) lines.push(`UUID=${fstabEscape(e.uuid)}\t${fstabEscape(e.mount)}\t${e.type}\t${e.options}\t0\t${e.pass}\t# ${fstabEscape(e.device)}`);
  return lines.join('\n') + '\n';
}
