// What the fleet costs the host beyond CPU (agent/host/children-cpu.ts): the resident
// memory of the processes running the agent bundle right now. Linux /proc only.
import { readdirSync, readFileSync } from 'node:fs';

const PAGE = 4096;

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
