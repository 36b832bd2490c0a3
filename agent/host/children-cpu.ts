// CPU a process's reaped children used: what a benchmark's shell pipeline or a
// fleet of agent processes cost, next to the process's own process.cpuUsage().
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const HZ = 100;

/** User+system CPU seconds of every child this process has waited for so far (cutime + cstime, RUSAGE_CHILDREN). */
export function childrenCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8');
  // After "(comm) " the state is [0]; cutime and cstime (fields 16 and 17 of the line) are [13] and [14].
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[13]) + Number(rest[14])) / HZ;
}
