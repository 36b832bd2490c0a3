// What the fleet costs the host: CPU seconds of every finished child (the node
// agents and all they ran, reaped through them) and the resident memory of the
// processes running the agent bundle right now. Linux /proc only.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const HZ = 100;
const PAGE = 4096;

/** User+system CPU seconds of reaped descendants (cutime + cstime of /proc/self/stat). */
export function childrenCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  // Fields after "(comm) ": state is [0]; cutime and cstime are fields 16 and 17 of the line, [13] and [14] here.
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / HZ;
}

/** Summed RSS (MiB) and count of the processes whose command line contains `needle`. */
export function rssOfCommands(needle: string): { mib: number; processes: number } {
  let pages = 0;
  let processes = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // rss is field 24 of the line: [21] after the state field.
      pages += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[21]);
      processes++;
    } catch {
      // It exited while we looked.
    }
  }
  return { mib: (pages * PAGE) / (1 << 20), processes };
}
