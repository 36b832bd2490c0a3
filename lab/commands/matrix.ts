// `lab matrix [--shard i/n] [--cases A,B] [--out DIR] [--dry-run]`: the lab's full matrix, or one
// CI machine's share of it (lab/matrix/cases.ts decides which), into a directory
// a later `lab merge` joins with the other shards'. --dry-run plans every case's
// nodes and checks the plans instead of booting VMs (no root, seconds).
import { join } from 'node:path';
import { MATRIX_CASES, parseShard, shardLabel } from '../matrix/cases.js';
import { planCaseRunner } from '../matrix/plan-runner.js';
import { runMatrix } from '../matrix/run.js';
import { parseLabArgs } from './args.js';

export const MATRIX_USAGE = [
  'usage: tsx lab/cli.ts matrix [--shard i/n] [--cases A,B…] [--out DIR] [--dry-run]',
  '         every lab scenario end to end plus two nodes at once, or shard i of n of them;',
  '         --cases: only these cases (e.g. --cases uefi-single-disk,uefi-secureboot)',
  '         writes DIR/junit.xml, results.json, stages.json, report.html (+ report.json)',
  '         (default reports/matrix, or reports/matrix-shard-i-of-n); --dry-run: plans only, no VM',
  `         cases: ${MATRIX_CASES.join(', ')}`,
].join('\n');

const OPTIONS = { shard: { type: 'string' }, cases: { type: 'string' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' } } as const;

export async function matrixCommand(args: string[], signal: AbortSignal, out: (line: string) => void = (l) => void process.stdout.write(l + '\n')): Promise<number> {
  const { values } = parseLabArgs(args, OPTIONS, MATRIX_USAGE);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  const outDir = values.out ?? join('reports', shard ? `matrix-shard-${shard.index}-of-${shard.count}` : 'matrix');
  // The VM runner (lab, QEMU, docker) is loaded only for a real run.
  const runCase = values['dry-run'] ? planCaseRunner() : (await import('../matrix/vm-runner.js')).vmCaseRunner({ log: out });
  const only = values.cases?.split(',').map((c) => c.trim()).filter(Boolean);
  const r = await runMatrix({ ...(shard ? { shard } : {}), ...(only ? { only } : {}), outDir, runCase, signal, log: out });
  const failed = r.cases.filter((c) => !c.ok);
  out(`\n== lab matrix${shard ? ` shard ${shardLabel(shard)}` : ''}: ${r.cases.length - failed.length}/${r.cases.length} cases passed ==`);
  for (const c of failed) {
    out(`FAIL ${c.id}${c.error ? `: ${c.error.message.split('\n')[0]}` : ''}`);
    for (const x of c.checks.filter((x) => !x.ok)) out(`     ${x.name}: ${x.detail}`);
  }
  out(`results: ${join(outDir, 'junit.xml')}, ${join(outDir, 'report.html')}`);
  return failed.length ? 1 : 0;
}
