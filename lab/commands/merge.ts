// `lab merge --out DIR SHARD_DIR...`: the shards of one matrix run (each a
// `lab matrix --shard i/n` directory) joined into one: junit.xml, results.json,
// stages.json, report.html as an unsharded run writes them. Shards that do not add
// up to one run (a case twice, a shard missing) are refused, naming what is wrong;
// exit 1 when a case failed.
import { ForgeError } from '../../agent/core/errors.js';
import { readMatrixResults, writeMatrixOutputs } from '../matrix/outputs.js';
import { mergeResults } from '../matrix/results.js';
import { parseLabArgs } from './args.js';

export const MERGE_USAGE = [
  'usage: tsx lab/cli.ts merge --out DIR SHARD_DIR...',
  '         joins `lab matrix --shard i/n` directories (all n of them) into one run\'s junit.xml, results.json,',
  '         stages.json and report.html in DIR',
].join('\n');

const OPTIONS = { out: { type: 'string' } } as const;

export async function mergeCommand(args: string[], signal: AbortSignal, out: (line: string) => void = (l) => void process.stdout.write(l + '\n')): Promise<number> {
  const { values, positionals } = parseLabArgs(args, OPTIONS, MERGE_USAGE, true);
  if (!values.out) throw new ForgeError('USAGE', `--out DIR is required\n${MERGE_USAGE}`, { field: '--out' });
  if (!positionals.length) throw new ForgeError('USAGE', `no shard directories given\n${MERGE_USAGE}`, { field: 'SHARD_DIR' });
  signal.throwIfAborted();
  const merged = mergeResults(positionals.map(readMatrixResults));
  const paths = writeMatrixOutputs(values.out, merged);
  const failed = merged.cases.filter((c) => !c.ok);
  out(`lab matrix (${merged.mode}), ${positionals.length} shard(s) merged: ${merged.cases.length - failed.length}/${merged.cases.length} cases passed`);
  for (const c of failed) out(`FAIL ${c.id}${c.error ? `: ${c.error.message.split('\n')[0]}` : ''}`);
  out(`results: ${paths.junit}, ${paths.html}`);
  return failed.length ? 1 : 0;
}
