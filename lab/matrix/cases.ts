// The lab matrix as a list of cases, and which share of it one CI machine runs.
// vitest's --shard splits by test file and the matrix is one file, so the split is
// by case: round-robin over the sorted case ids. Every case provisions one node
// (the two-nodes case runs its two at once), so cases cost about the same and
// round-robin keeps shards within one case of each other; sorting makes the
// assignment depend only on the set of ids, the same on every machine. No
// durations are recorded across CI runs yet: a duration-balanced split would be
// balanced by guesses.
import { ForgeError } from '../../agent/core/errors.js';
import { LAB_SCENARIOS, type LabScenarioName } from '../scenario.js';

/** Two nodes at once on one L2 segment (one dnsmasq, image server, Nailgun). */
export const TWO_NODES_CASE = 'two-nodes-one-segment';
/** The scenarios the two-nodes case provisions side by side. */
export const TWO_NODES_SCENARIOS: readonly [LabScenarioName, LabScenarioName] = ['single-disk', 'nvme-sata'];

/** Every case of the full matrix, in the order an unsharded run runs them. */
export const MATRIX_CASES: readonly string[] = [...LAB_SCENARIOS, TWO_NODES_CASE];

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;

function checkShard(index: number, count: number, text: string): Shard {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new ForgeError('USAGE', `--shard ${text}: expected i/n with whole numbers 1 ≤ i ≤ n`, { field: '--shard' });
  }
  return { index, count };
}

/** `i/n` as given to `--shard`. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ForgeError('USAGE', `--shard ${JSON.stringify(text)}: expected i/n, e.g. 2/4`, { field: '--shard' });
  return checkShard(Number(m[1]), Number(m[2]), text);
}

/**
 * Shard `index` of `count`: the cases whose position among the sorted ids is
 * index-1 modulo count, returned in the matrix's own order. Shards may be empty
 * when there are more shards than cases.
 */
export function casesForShard<T extends string>(cases: readonly T[], index: number, count: number): T[] {
  checkShard(index, count, `${index}/${count}`);
  const dup = cases.find((c, i) => cases.indexOf(c) !== i);
  if (dup !== undefined) throw new ForgeError('USAGE', `matrix case ${dup} is listed twice`, { field: 'cases' });
  // Code-unit order, not localeCompare: the same on every machine whatever its locale.
  const sorted = [...cases].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mine = new Set(sorted.filter((_, i) => i % count === index - 1));
  return cases.filter((c) => mine.has(c));
}
