// A matrix run's machine-readable results: one entry per case with its verdict,
// checks and time (results.json), the run's report (report.json, the data behind
// report.html), and what a merge needs to prove the shards add up to one run: the
// full case list and the shard's label. JUnit for CI is rendered from the same data.
import { z } from 'zod';
import { ForgeError } from '../../agent/core/errors.js';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import type { Check } from '../verify/first-boot.js';
import { REPORT_VERSION, type RunReport } from '../report/model.js';
import { casesForShard, parseShard, shardLabel, type Shard } from './cases.js';
import { checkSchema, errorSchema, runReportSchema } from '../report/schema.js';

export const RESULTS_VERSION = 1;

/** `vm`: provisioned in lab VMs; `plan`: the dry run (plans and their invariants, no VM). */
export type MatrixMode = 'vm' | 'plan';

export interface MatrixCaseResult {
  id: string;
  ok: boolean;
  ms: number;
  checks: Check[];
  /** Lab nodes of this case in the report (node-20, …). */
  nodes: string[];
  /** What stopped the case, if anything did. */
  error?: { code?: string; message: string };
}

export interface MatrixResults {
  version: typeof RESULTS_VERSION;
  mode: MatrixMode;
  /** Every case of the matrix, in unsharded order (a shard runs a share of them). */
  matrix: string[];
  /** `i/n`; absent for an unsharded or merged run. */
  shard?: string;
  cases: MatrixCaseResult[];
  report: RunReport;
}

/** results.json: the results without the report (report.json, the renderer's own file, holds that). */
export type MatrixResultsFile = Omit<MatrixResults, 'report'>;

const resultsFileSchema = z.object({
  version: z.literal(RESULTS_VERSION),
  mode: z.enum(['vm', 'plan']),
  matrix: z.array(z.string()),
  shard: z.string().exactOptional(),
  cases: z.array(z.object({
    id: z.string(), ok: z.boolean(), ms: z.number(), checks: z.array(checkSchema), nodes: z.array(z.string()), error: errorSchema.exactOptional(),
  })),
});

/** A shard's results.json and report.json, parsed (files another machine wrote). */
export function parseMatrixResults(files: { results: { text: string; source: string }; report: { text: string; source: string } }): MatrixResults {
  const r = parseJsonAs(resultsFileSchema, files.results.text, { source: files.results.source, code: 'INPUT_UNREADABLE' });
  const report = parseJsonAs(runReportSchema, files.report.text, { source: files.report.source, code: 'INPUT_UNREADABLE' });
  return { ...r, report };
}

/** The command that reruns this run (a shard reruns its share only). */
export function matrixRerun(mode: MatrixMode, shard?: Shard, only?: readonly string[]): string {
  return ['npx tsx lab/cli.ts matrix', shard ? `--shard ${shardLabel(shard)}` : '', only ? `--cases ${only.join(',')}` : '', mode === 'plan' ? '--dry-run' : '']
    .filter(Boolean)
    .join(' ');
}

// --- JUnit -------------------------------------------------------------------

// XML 1.0 cannot carry these even as references (a console's ESC, NUL): shown as \xNN.
const NOT_XML = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text for element content or a double-quoted attribute. */
export function xmlEscape(s: string): string {
  return s
    .replace(NOT_XML, (c) => `\\x${(c.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`)
    .replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

// Parsers turn a raw newline in an attribute into a space: keep it as a reference.
const attr = (s: string): string => xmlEscape(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
const secs = (ms: number): string => (ms / 1000).toFixed(3);
const checkLine = (c: Check): string => `${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`;

function testcase(c: MatrixCaseResult, mode: MatrixMode): string {
  const failed = c.checks.filter((x) => !x.ok);
  const head = `    <testcase classname="lab.matrix.${mode}" name="${attr(c.id)}" time="${secs(c.ms)}"`;
  let verdict = '';
  if (c.error) {
    const body = [c.error.message, ...failed.map(checkLine)].join('\n');
    verdict = `      <error type="${attr(c.error.code ?? 'Error')}" message="${attr(c.error.message.split('\n')[0] ?? '')}">${xmlEscape(body)}</error>\n`;
  } else if (!c.ok) {
    const message = failed.length ? `${failed.length} of ${c.checks.length} checks failed: ${failed.map((x) => x.name).join(', ')}` : 'no checks ran';
    verdict = `      <failure type="checks" message="${attr(message)}">${xmlEscape(failed.map(checkLine).join('\n'))}</failure>\n`;
  }
  const out = c.checks.length ? `      <system-out>${xmlEscape(c.checks.map(checkLine).join('\n'))}</system-out>\n` : '';
  return verdict || out ? `${head}>\n${verdict}${out}    </testcase>` : `${head}/>`;
}

/** JUnit XML: one testsuite for the run (shard or merged), one testcase per case. */
export function toJUnit(r: MatrixResults): string {
  const errors = r.cases.filter((c) => c.error).length;
  const failures = r.cases.filter((c) => !c.ok && !c.error).length;
  const time = secs(r.cases.reduce((a, c) => a + c.ms, 0));
  const name = `lab matrix (${r.mode})${r.shard ? ` shard ${r.shard}` : ''}`;
  const counts = `tests="${r.cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fuel-forge lab matrix" ${counts}>`,
    `  <testsuite name="${attr(name)}" ${counts} timestamp="${attr(r.report.startedAt)}">`,
    '    <properties>',
    `      <property name="rerun" value="${attr(r.report.rerun)}"/>`,
    ...(r.shard ? [`      <property name="shard" value="${attr(r.shard)}"/>`] : []),
    '    </properties>',
    ...r.cases.map((c) => testcase(c, r.mode)),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

// --- merge -------------------------------------------------------------------

/** A stage that is no node's (`lab: master containers …`) is named after its shard in the merged timeline. */
function shardStages(r: MatrixResults): RunReport['stages'] {
  if (!r.shard) return r.report.stages;
  const nodes = r.report.nodes.map((n) => `${n.name}: `);
  return r.report.stages.map((s) => (nodes.some((p) => s.stage.startsWith(p)) ? s : { ...s, stage: `shard ${r.shard}: ${s.stage}` }));
}

/**
 * The shards' results as one run's: cases in unsharded order, each shard's nodes
 * and stages. Refuses, naming them all, shards that do not add up to exactly one
 * run: a case in two shards, a missing or repeated shard, shards of different
 * splits, modes or case lists, a shard that ran other than its share.
 */
export function mergeResults(list: readonly MatrixResults[]): MatrixResults {
  const first = list[0];
  if (!first) throw new ForgeError('USAGE', 'merge: no shard results given', { field: 'shards' });
  const problems: string[] = [];
  const label = (r: MatrixResults): string => r.shard ?? '1/1';

  const seen = new Map<string, string[]>();
  for (const r of list) for (const c of r.cases) seen.set(c.id, [...(seen.get(c.id) ?? []), label(r)]);
  const dups = [...seen].filter(([, where]) => where.length > 1);
  for (const [id, where] of dups) problems.push(`case ${id} is in more than one shard (${where.join(', ')})`);

  const modes = new Set(list.map((r) => r.mode));
  if (modes.size > 1) problems.push(`shards of different modes: ${[...modes].join(', ')}`);
  const matrix = first.matrix;
  for (const r of list) {
    if (r.matrix.join('\n') !== matrix.join('\n')) problems.push(`shard ${label(r)} ran a different case list (${r.matrix.join(', ')}; shard ${label(first)}: ${matrix.join(', ')})`);
  }

  const shards = list.map((r) => ({ r, s: parseShard(label(r)) }));
  const counts = new Set(shards.map((x) => x.s.count));
  if (counts.size > 1) problems.push(`shards of different splits: ${shards.map((x) => label(x.r)).join(', ')}`);
  else {
    const count = parseShard(label(first)).count;
    const indices = shards.map((x) => x.s.index);
    for (let i = 1; i <= count; i++) {
      const n = indices.filter((j) => j === i).length;
      if (n === 0) problems.push(`shard ${i}/${count} is missing`);
      if (n > 1) problems.push(`shard ${i}/${count} is given ${n} times`);
    }
    for (const { r, s } of shards) {
      const share = casesForShard(matrix, s.index, s.count);
      const ran = r.cases.map((c) => c.id);
      if ([...ran].sort().join('\n') !== [...share].sort().join('\n')) problems.push(`shard ${label(r)} ran ${ran.join(', ') || 'nothing'}; its share is ${share.join(', ') || 'nothing'}`);
    }
  }
  const nodeShards = new Map<string, string[]>();
  for (const r of list) for (const n of r.report.nodes) nodeShards.set(n.name, [...(nodeShards.get(n.name) ?? []), label(r)]);
  for (const [name, where] of nodeShards) if (where.length > 1) problems.push(`node ${name} is in more than one shard's report (${where.join(', ')})`);
  const missing = matrix.filter((id) => !seen.has(id));
  if (missing.length) problems.push(`no results for ${missing.join(', ')}`);
  if (problems.length) {
    throw new ForgeError('CONFIG_INVALID', `merge: the shards do not add up to one matrix run:\n  ${problems.join('\n  ')}`, {
      field: 'shards',
      details: { problems, duplicateCases: dups.map(([id]) => id), missingCases: missing },
    });
  }

  const byId = new Map(list.flatMap((r) => r.cases.map((c) => [c.id, c] as const)));
  const cases = matrix.map((id) => byId.get(id)).filter((c): c is MatrixCaseResult => c !== undefined);
  const nodesByName = new Map(list.flatMap((r) => r.report.nodes.map((n) => [n.name, n] as const)));
  const ordered = [...shards].sort((a, b) => a.s.index - b.s.index).map((x) => x.r);
  const startedAt = list.map((r) => r.report.startedAt).sort()[0] ?? first.report.startedAt;
  return {
    version: RESULTS_VERSION,
    mode: first.mode,
    matrix: [...matrix],
    cases,
    report: {
      version: REPORT_VERSION,
      kind: 'matrix',
      title: `lab matrix (${first.mode}), ${list.length} shard${list.length === 1 ? '' : 's'} merged`,
      startedAt,
      rerun: matrixRerun(first.mode),
      stages: ordered.flatMap(shardStages),
      nodes: cases.flatMap((c) => c.nodes.map((n) => nodesByName.get(n)).filter((n) => n !== undefined)),
    },
  };
}
