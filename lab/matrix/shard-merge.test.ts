// The matrix across machines, on the dry run (plans, no VM): the whole matrix in
// one go, then as two shards merged, must give the same cases with the same
// verdicts, in a JUnit file an independent XML parser reads the same way; a merge
// of shards that overlap or miss one is refused. Then the CI pipelines that fan
// the matrix out: they parse, and their shard counts agree.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ExecaRunner } from '../../agent/core/runner.js';
import { mergeCommand } from '../commands/merge.js';
import { matrixCommand } from '../commands/matrix.js';
import { labScenario } from '../scenario.js';
import { casesForShard, MATRIX_CASES, type Shard } from './cases.js';
import { readMatrixResults } from './outputs.js';
import { planCaseRunner } from './plan-runner.js';
import type { MatrixResults } from './results.js';
import { runMatrix } from './run.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const runner = new ExecaRunner();
const signal = new AbortController().signal;

// A case that must fail: single-disk's data on a disk a quarter of its size.
const SMALL = 'single-disk-on-a-small-disk';
const small = labScenario('single-disk');
const extra = { [SMALL]: { ...small, name: SMALL, disks: small.disks.map((d) => ({ ...d, sizeMiB: Math.floor(d.sizeMiB / 4) })) } };
const CASES = [...MATRIX_CASES, SMALL];

interface JUnitView {
  root: string;
  suites: number;
  cases: { name: string; verdict: 'pass' | 'failure' | 'error'; message: string | null; text: string | null }[];
}

/** The JUnit file as python3's xml.etree reads it (a parser that is not ours). */
async function readJUnit(file: string): Promise<JUnitView> {
  const code = [
    'import json, sys, xml.etree.ElementTree as ET',
    'root = ET.parse(sys.argv[1]).getroot()',
    'cases = []',
    "for c in root.iter('testcase'):",
    "    f, e = c.find('failure'), c.find('error')",
    '    v = f if f is not None else e',
    "    cases.append({'name': c.get('name'), 'verdict': 'failure' if f is not None else 'error' if e is not None else 'pass',",
    "                  'message': None if v is None else v.get('message'), 'text': None if v is None else v.text})",
    "print(json.dumps({'root': root.tag, 'suites': len(root.findall('testsuite')), 'cases': cases}))",
  ].join('\n');
  const r = await runner.run(['python3', '-c', code, file], { timeoutMs: 30_000 });
  return JSON.parse(r.stdout) as JUnitView;
}

const verdicts = (r: MatrixResults): [string, boolean][] => r.cases.map((c) => [c.id, c.ok]);

describe('lab matrix: two shards + merge = one run', () => {
  let dir: string;
  const out = (name: string): string => join(dir, name);
  const run = (name: string, shard?: Shard): Promise<MatrixResults> =>
    runMatrix({ cases: CASES, runCase: planCaseRunner({ extra }), outDir: out(name), signal, ...(shard ? { shard } : {}) });
  let whole: MatrixResults;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forge-matrix-'));
    whole = await run('whole');
    // Two CI machines, one after the other here.
    await run('shard-1', { index: 1, count: 2 });
    await run('shard-2', { index: 2, count: 2 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each shard ran its own share, and the shares do not overlap', () => {
    const s1 = readMatrixResults(out('shard-1'));
    const s2 = readMatrixResults(out('shard-2'));
    expect(s1.shard).toBe('1/2');
    expect(s1.cases.map((c) => c.id)).toEqual(casesForShard(CASES, 1, 2));
    expect(s2.cases.map((c) => c.id)).toEqual(casesForShard(CASES, 2, 2));
    expect(s1.cases.length).toBeGreaterThan(0);
    expect(s2.cases.length).toBeGreaterThan(0);
    expect(s1.cases.filter((c) => s2.cases.some((d) => d.id === c.id))).toEqual([]);
  });

  it('merged: the same cases, verdicts and checks as the unsharded run, in its order', async () => {
    const lines: string[] = [];
    const code = await mergeCommand(['--out', out('merged'), out('shard-2'), out('shard-1')], signal, (l) => lines.push(l));
    const merged = readMatrixResults(out('merged'));
    expect(verdicts(merged)).toEqual(verdicts(whole));
    expect(merged.cases.map((c) => c.checks)).toEqual(whole.cases.map((c) => c.checks));
    expect(merged.shard).toBeUndefined();
    // Not all PASS: the small disk's case fails its plan, the lab's scenarios pass theirs.
    expect(verdicts(merged).filter(([, ok]) => !ok).map(([id]) => id)).toEqual([SMALL]);
    expect(merged.cases.find((c) => c.id === SMALL)?.checks.filter((c) => !c.ok).map((c) => c.detail).join()).toMatch(/SIZE_DOES_NOT_FIT/);
    // A failed case fails the merge, which still writes the joined report.
    expect(code).toBe(1);
    expect(lines.join('\n')).toContain(`FAIL ${SMALL}`);
    expect(merged.report.nodes.map((n) => n.name)).toEqual(whole.report.nodes.map((n) => n.name));
    expect(merged.report.nodes.map((n) => n.ok)).toEqual(whole.report.nodes.map((n) => n.ok));
    expect(readdirSync(out('merged')).sort()).toEqual(['junit.xml', 'report.html', 'report.json', 'results.json', 'stages.json']);
    const html = readFileSync(join(out('merged'), 'report.html'), 'utf8');
    for (const n of merged.report.nodes) expect(html).toContain(n.name);
    // Every stage of both shards is on the merged timeline.
    const stages = JSON.parse(readFileSync(join(out('merged'), 'stages.json'), 'utf8')) as { stage: string }[];
    expect(stages.map((s) => s.stage).sort()).toEqual(whole.report.stages.map((s) => s.stage).sort());
  });

  it('merged JUnit reads, with an independent parser, like the unsharded run\'s', async () => {
    const a = await readJUnit(join(out('whole'), 'junit.xml'));
    const b = await readJUnit(join(out('merged'), 'junit.xml'));
    expect(b.root).toBe('testsuites');
    expect(b.suites).toBe(1);
    expect(b.cases.map((c) => c.name)).toEqual(CASES);
    expect(b.cases.map((c) => [c.name, c.verdict])).toEqual(a.cases.map((c) => [c.name, c.verdict]));
    const failing = b.cases.filter((c) => c.verdict !== 'pass');
    expect(failing.length).toBe(whole.cases.filter((c) => !c.ok).length);
    // The failure names the failed check and carries its detail.
    const failed = whole.cases.find((c) => c.id === SMALL)?.checks.find((c) => !c.ok);
    expect(failing[0]?.message).toContain(failed?.name);
    expect(failing[0]?.text).toContain(failed?.detail);
  });

  it('refuses overlapping shards, naming the case run twice, and writes nothing', async () => {
    const twice = casesForShard(CASES, 1, 2)[0];
    const err = await mergeCommand(['--out', out('bad'), out('whole'), out('shard-1')], signal, () => undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).toContain(`case ${twice} is in more than one shard (1/1, 1/2)`);
    expect(existsSync(out('bad'))).toBe(false);
  });

  it('refuses a missing shard and the same shard given twice, naming them', async () => {
    await expect(mergeCommand(['--out', out('bad'), out('shard-1')], signal, () => undefined)).rejects.toThrow(/shard 2\/2 is missing/);
    await expect(mergeCommand(['--out', out('bad'), out('shard-1'), out('shard-1')], signal, () => undefined)).rejects.toThrow(/shard 1\/2 is given 2 times/);
    await expect(mergeCommand(['--out', out('bad'), out('nowhere')], signal, () => undefined)).rejects.toThrow(/nowhere: no results\.json/);
  });
});

describe('lab matrix command', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'forge-matrix-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--dry-run --shard 2/3 runs that share of the real matrix and passes', async () => {
    const lines: string[] = [];
    const code = await matrixCommand(['--dry-run', '--shard', '2/3', '--out', join(dir, 's2')], signal, (l) => lines.push(l));
    const r = readMatrixResults(join(dir, 's2'));
    expect(r.mode).toBe('plan');
    expect(r.shard).toBe('2/3');
    expect(r.report.rerun).toBe('npx tsx lab/cli.ts matrix --shard 2/3 --dry-run');
    expect(r.cases.map((c) => c.id)).toEqual(casesForShard(MATRIX_CASES, 2, 3));
    expect(r.cases.filter((c) => !c.ok)).toEqual([]);
    expect(code).toBe(0);
    expect(lines.at(-2)).toContain(`${r.cases.length}/${r.cases.length} cases passed`);
  });

  it('refuses a bad --shard and unknown options as USAGE', async () => {
    await expect(matrixCommand(['--dry-run', '--shard', '3/2', '--out', join(dir, 'x')], signal, () => undefined)).rejects.toMatchObject({ code: 'USAGE', field: '--shard' });
    await expect(matrixCommand(['--frobnicate'], signal, () => undefined)).rejects.toMatchObject({ code: 'USAGE', field: '--frobnicate' });
    await expect(mergeCommand([join(dir, 's2')], signal, () => undefined)).rejects.toMatchObject({ code: 'USAGE', field: '--out' });
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});

describe('CI pipelines for the matrix (ci/)', () => {
  const text = (f: string): string => readFileSync(join(ROOT, 'ci', f), 'utf8');

  it('GitHub Actions: shards 1..N each run their share and upload it; the merge needs them all', () => {
    const wf = parseYaml(text('lab-matrix.github.yml')) as {
      jobs: Record<string, { needs?: string | string[]; strategy?: { matrix?: { shard?: unknown } }; steps: { run?: string; uses?: string; with?: Record<string, unknown> }[] }>;
    };
    const matrix = wf.jobs['matrix'];
    const merge = wf.jobs['merge'];
    const shards = matrix?.strategy?.matrix?.shard;
    const run = matrix?.steps.map((s) => s.run ?? '').find((r) => r.includes('lab/cli.ts matrix')) ?? '';
    const n = Number(/--shard \$\{\{ matrix\.shard \}\}\/(\d+)\b/.exec(run)?.[1]);
    expect(n).toBeGreaterThan(1);
    expect(shards).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(run).toMatch(/--out reports\/shard-\$\{\{ matrix\.shard \}\}/);
    expect(matrix?.steps.map((s) => s.run).filter(Boolean)[0]).toBe('bash ci/setup');
    expect(matrix?.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))?.with?.['path']).toBe('reports/shard-${{ matrix.shard }}');
    expect([merge?.needs].flat()).toContain('matrix');
    expect(merge?.steps.some((s) => s.uses?.startsWith('actions/download-artifact'))).toBe(true);
    expect(merge?.steps.map((s) => s.run ?? '').find((r) => r.includes('lab/cli.ts merge'))).toMatch(/--out reports\/matrix /);
  });

  it('Jenkins: the same shard count, a parallel stage per shard, then the merge', () => {
    const jf = text('Jenkinsfile.lab-matrix');
    const wf = parseYaml(text('lab-matrix.github.yml')) as { jobs: { matrix: { strategy: { matrix: { shard: number[] } } } } };
    expect(Number(/def SHARDS = (\d+)/.exec(jf)?.[1])).toBe(wf.jobs.matrix.strategy.matrix.shard.length);
    expect(jf).toContain('parallel shards');
    expect(jf).toContain('lab/cli.ts matrix --shard ${i}/${SHARDS} --out reports/shard-${i}');
    expect(jf).toContain('lab/cli.ts merge --out reports/matrix reports/shard-*');
  });

  it('the pipelines are documented', () => {
    const doc = text('lab-matrix.md');
    for (const f of ['lab-matrix.github.yml', 'Jenkinsfile.lab-matrix', '--shard', 'lab/cli.ts merge', '--dry-run']) expect(doc).toContain(f);
  });
});
