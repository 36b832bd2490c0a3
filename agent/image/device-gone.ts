// Is a write target still there? A disk pulled out (hot-unplug, a dead HBA, a
// USB bridge reset) makes every write fail with EIO or ENODEV; the operator needs
// "the disk went away", not "write failed". sysfs tells: the device's entry
// disappears, and a device-mapper or MD device on top keeps its entry but its
// `slaves/` links dangle.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * The disk (or partition) under `device` that is gone, or undefined while every
 * layer is present. `device` may be a link (/dev/mapper/os-root, /dev/disk/by-id/…).
 */
export function goneUnder(device: string, sysBlock = '/sys/class/block'): string | undefined {
  let name: string;
  try {
    name = basename(realpathSync(device));
  } catch {
    return device;
  }
  return goneFrom(name, sysBlock, 0);
}

function goneFrom(name: string, sysBlock: string, depth: number): string | undefined {
  const dir = join(sysBlock, name);
  if (!existsSync(dir)) return name;
  // Stacks are shallow (partition ← md ← dm); a loop would be a sysfs bug, not ours to follow.
  if (depth > 8) return undefined;
  let slaves: string[] = [];
  try {
    slaves = readdirSync(join(dir, 'slaves'));
  } catch {
    return undefined;
  }
  for (const s of slaves) {
    // A dangling link: existsSync follows it.
    if (!existsSync(join(dir, 'slaves', s))) return s;
    const under = goneFrom(s, sysBlock, depth + 1);
    if (under) return under;
  }
  return undefined;
}
