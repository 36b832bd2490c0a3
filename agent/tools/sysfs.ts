// The kernel's block-device graph, read from sysfs (no tool call, works without
// udev): a disk's partitions and what is stacked on them (MD arrays, dm devices).
import { readdir, readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseProcMounts } from './mount.js';

const SYS = '/sys/class/block';

/** Kernel name of a device node or link (/dev/md/Boot → md127); null when absent. */
export async function kernelName(path: string): Promise<string | null> {
  try {
    return basename(await realpath(path));
  } catch {
    return null;
  }
}

export async function partitionsOf(diskName: string): Promise<string[]> {
  try {
    const entries = await readdir(`/sys/block/${diskName}`);
    const parts: string[] = [];
    for (const e of entries) {
      if (!e.startsWith(diskName)) continue;
      try {
        await readFile(`${SYS}/${e}/partition`, 'utf8');
        parts.push(e);
      } catch {
        // not a partition directory
      }
    }
    return parts.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

export async function holdersOf(name: string): Promise<string[]> {
  try {
    return (await readdir(`${SYS}/${name}/holders`)).sort();
  } catch {
    return [];
  }
}

/** Every device stacked (transitively) on `names`, deepest last. */
export async function holdersClosure(names: readonly string[]): Promise<string[]> {
  const seen = new Set<string>(names);
  const out: string[] = [];
  let frontier = [...names];
  while (frontier.length) {
    const next: string[] = [];
    for (const n of frontier) {
      for (const h of await holdersOf(n)) {
        if (seen.has(h)) continue;
        seen.add(h);
        out.push(h);
        next.push(h);
      }
    }
    frontier = next;
  }
  return out;
}

/** dm device's name (/dev/mapper/<name>), for messages. */
export async function dmName(name: string): Promise<string | null> {
  try {
    return (await readFile(`${SYS}/${name}/dm/name`, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** Mounted sources and active swap devices, as kernel names → where they are used. */
export async function devicesInUse(): Promise<Map<string, string>> {
  const used = new Map<string, string>();
  const add = async (src: string, what: string): Promise<void> => {
    if (!src.startsWith('/dev/')) return;
    const n = await kernelName(src);
    if (n) used.set(n, what);
  };
  try {
    for (const m of parseProcMounts(await readFile('/proc/self/mounts', 'utf8'))) await add(m.source, `mounted at ${m.target}`);
  } catch {
    // no /proc: nothing known to be mounted
  }
  try {
    for (const line of (await readFile('/proc/swaps', 'utf8')).split('\n').slice(1)) {
      const src = line.split(/\s+/)[0];
      if (src) await add(src, 'active swap');
    }
  } catch {
    // no swap information
  }
  return used;
}

/** The block-device graph as the executor sees it; tests substitute a fake one. */
export interface BlockGraph {
  kernelName(path: string): Promise<string | null>;
  partitionsOf(diskName: string): Promise<string[]>;
  holdersClosure(names: readonly string[]): Promise<string[]>;
  dmName(name: string): Promise<string | null>;
  devicesInUse(): Promise<Map<string, string>>;
}

export const sysfsGraph: BlockGraph = { kernelName, partitionsOf, holdersClosure, dmName, devicesInUse };
