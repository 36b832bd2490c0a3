// Runs a shard's cases one after another with a case runner (the lab's VMs, or
// the plan-only dry run), times them, and writes the run's directory. A case that
// throws, a setup that fails or an abort still leaves a result for every case of
// the shard, so a merge can tell a failed case from a missing shard.
import { ForgeError, isForgeError } from '../../agent/core/errors.js';
import { REPORT_VERSION, type NodeReport } from '../report/model.js';
import { Stages } from '../stages.js';
import type { Check } from '../verify/first-boot.js';
import { casesForShard, MATRIX_CASES, shardLabel, type Shard } from './cases.js';
import { writeMatrixOutputs } from './outputs.js';
import { matrixRerun, RESULTS_VERSION, type MatrixCaseResult, type MatrixMode, type MatrixResults } from './results.js';

export interface CaseContext {
  id: string;
  /** The case's index in the full matrix: node numbers come from it, so a case's nodes are named alike in every shard. */
  position: number;
  stages: Stages;
  signal: AbortSignal;
}

export interface CaseOutcome {
  /** One report per node the case used; a node that failed carries its error. */
  nodes: NodeReport[];
  /** Checks of the case as a whole (two nodes got two leases …). */
  checks?: Check[];
}

export interface MatrixCaseRunner {
  readonly mode: MatrixMode;
  /** Once, before the first case (the lab's start); a failure fails every case of the shard. */
  setup?(stages: Stages, signal: AbortSignal): Promise<void>;
  run(c: CaseContext): Promise<CaseOutcome>;
  /** Always called once setup was attempted. */
  dispose?(): Promise<void>;
}

/** First lab node number of the case at `position`: two per case (the two-nodes case uses both). */
export const nodeIndexFor = (position: number): number => 20 + 2 * position;

const errorOf = (e: unknown): { code?: string; message: string } =>
  isForgeError(e) ? { code: e.code, message: e.message } : { message: e instanceof Error ? e.message : String(e) };

function caseResult(id: string, ms: number, o: CaseOutcome): MatrixCaseResult {
  // With two nodes, each node's checks are named after it.
  const named = o.nodes.length > 1;
  const checks = [...o.nodes.flatMap((n) => n.checks.map((c) => (named ? { ...c, name: `${n.name}: ${c.name}` } : c))), ...(o.checks ?? [])];
  const failedNode = o.nodes.find((n) => n.error);
  const ok = !failedNode && o.nodes.every((n) => n.ok) && checks.length > 0 && checks.every((c) => c.ok);
  return {
    id, ok, ms: Math.round(ms), checks, nodes: o.nodes.map((n) => n.name),
    ...(failedNode?.error ? { error: named ? { ...failedNode.error, message: `${failedNode.name}: ${failedNode.error.message}` } : failedNode.error } : {}),
  };
}

export interface RunMatrixOptions {
  /** Absent: every case. */
  shard?: Shard;
  outDir: string;
  runCase: MatrixCaseRunner;
  signal: AbortSignal;
  /** The matrix's case list (default MATRIX_CASES; tests add cases of their own). */
  cases?: readonly string[];
  /** Only these cases (of the shard): a developer's subset; ids not in the matrix are refused. */
  only?: readonly string[];
  /** Stage and verdict lines for the console. */
  log?: (line: string) => void;
}

export async function runMatrix(o: RunMatrixOptions): Promise<MatrixResults> {
  const log = o.log ?? (() => undefined);
  const matrix = [...(o.cases ?? MATRIX_CASES)];
  // Unsharded is shard 1/1: the same checks of the case list (no id twice).
  const unknown = o.only?.filter((c) => !matrix.includes(c)) ?? [];
  if (unknown.length) throw new ForgeError('USAGE', `--cases: not in the matrix: ${unknown.join(', ')} (cases: ${matrix.join(', ')})`, { field: '--cases' });
  const mine = casesForShard(matrix, o.shard?.index ?? 1, o.shard?.count ?? 1).filter((c) => !o.only || o.only.includes(c));
  const stages = new Stages(log, o.signal);
  const startedAt = new Date();
  const cases: MatrixCaseResult[] = [];
  const nodes: NodeReport[] = [];
  const subset = o.only ? `, cases ${o.only.join(', ')}` : '';
  log(`lab matrix (${o.runCase.mode})${o.shard ? ` shard ${shardLabel(o.shard)}` : ''}${subset}: ${mine.join(', ') || 'no cases'}`);
  let stopped: { code?: string; message: string } | undefined;
  let teardown: unknown;
  try {
    if (mine.length) await o.runCase.setup?.(stages, o.signal);
  } catch (e) {
    stopped = errorOf(e);
    stopped.message = `setup failed: ${stopped.message}`;
  }
  try {
    for (const id of mine) {
      if (!stopped && o.signal.aborted) stopped = { code: 'ABORTED', message: 'not run: the matrix was aborted' };
      if (stopped) {
        cases.push({ id, ok: false, ms: 0, checks: [], nodes: [], error: stopped });
        continue;
      }
      const t0 = performance.now();
      let r: MatrixCaseResult;
      try {
        const out = await o.runCase.run({ id, position: matrix.indexOf(id), stages, signal: o.signal });
        nodes.push(...out.nodes);
        r = caseResult(id, performance.now() - t0, out);
      } catch (e) {
        r = { id, ok: false, ms: Math.round(performance.now() - t0), checks: [], nodes: [], error: errorOf(e) };
      }
      cases.push(r);
      log(`${r.ok ? 'PASS' : 'FAIL'} ${id} (${(r.ms / 1000).toFixed(1)} s)${r.error ? `: ${r.error.message.split('\n')[0]}` : ''}`);
    }
  } finally {
    // A teardown failure (a VM that would not die) is reported after the results are written.
    if (mine.length) await o.runCase.dispose?.().catch((e: unknown) => void (teardown = e));
  }
  const results: MatrixResults = {
    version: RESULTS_VERSION,
    mode: o.runCase.mode,
    matrix,
    ...(o.shard ? { shard: shardLabel(o.shard) } : {}),
    cases,
    report: {
      version: REPORT_VERSION,
      kind: 'matrix',
      title: `lab matrix (${o.runCase.mode})${o.shard ? `, shard ${shardLabel(o.shard)}` : ''}${subset}`,
      startedAt: startedAt.toISOString(),
      rerun: matrixRerun(o.runCase.mode, o.shard, o.only),
      ...(o.shard ? { shard: shardLabel(o.shard) } : {}),
      stages: stages.records,
      nodes,
    },
  };
  writeMatrixOutputs(o.outDir, results);
  if (teardown !== undefined) throw teardown;
  return results;
}
