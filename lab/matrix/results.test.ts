// JUnit that any parser reads back exactly (escaping, characters XML cannot hold),
// and merges refused when shards do not add up to one run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import { REPORT_VERSION } from '../report/model.js';
import { casesForShard } from './cases.js';
import { mergeResults, toJUnit, type MatrixCaseResult, type MatrixResults } from './results.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MATRIX = ['a', 'b', 'c', 'd', 'e'];

function shardResults(index: number, count: number, o: { matrix?: string[]; ids?: string[]; mode?: 'vm' | 'plan'; shard?: string | null } = {}): MatrixResults {
  const matrix = o.matrix ?? MATRIX;
  const ids = o.ids ?? casesForShard(matrix, index, count);
  const shard = o.shard === null ? undefined : (o.shard ?? `${index}/${count}`);
  const cases: MatrixCaseResult[] = ids.map((id) => ({ id, ok: true, ms: 5, checks: [{ name: 'c', ok: true, detail: id }], nodes: [`n-${id}`] }));
  return {
    version: 1, mode: o.mode ?? 'plan', matrix, ...(shard ? { shard } : {}), cases,
    report: {
      version: REPORT_VERSION, kind: 'matrix', title: 't', startedAt: `2026-01-0${index}T00:00:00.000Z`, rerun: 'x', ...(shard ? { shard } : {}),
      stages: [{ stage: 'lab: start', ok: true, ms: 1 }, ...ids.map((id) => ({ stage: `n-${id}: plan`, ok: true, ms: 1 }))],
      nodes: ids.map((id) => ({ name: `n-${id}`, scenario: id, checks: [], images: [], ok: true })),
    },
  };
}

describe('toJUnit', () => {
  it('escapes what XML needs escaped and replaces what XML cannot hold; python3 reads the text back', async () => {
    const nasty = 'a <b> & "c" \'d\' ]]> \u001b[31mred\u001b[0m \u0000 end\nline 2';
    const r = shardResults(1, 1);
    r.cases = [
      { id: 'x & <y>', ok: false, ms: 1234, nodes: [], checks: [{ name: 'ok one', ok: true, detail: 'fine' }, { name: 'check "q"', ok: false, detail: nasty }] },
      { id: 'thrown', ok: false, ms: 0, nodes: [], checks: [], error: { code: 'LAB_TIMEOUT', message: `first line <x>\nsecond & line` } },
      { id: 'fine', ok: true, ms: 1, nodes: [], checks: [{ name: 'c', ok: true, detail: '' }] },
    ];
    const file = join(dir, 'nasty.xml');
    writeFileSync(file, toJUnit(r));
    const code = [
      'import json, sys, xml.etree.ElementTree as ET',
      'root = ET.parse(sys.argv[1]).getroot()',
      "s = root.find('testsuite')",
      "out = {'tests': s.get('tests'), 'failures': s.get('failures'), 'errors': s.get('errors'), 'cases': []}",
      "for c in s.findall('testcase'):",
      "    f, e = c.find('failure'), c.find('error')",
      "    out['cases'].append({'name': c.get('name'), 'time': c.get('time'),",
      "        'failure': None if f is None else [f.get('message'), f.text], 'error': None if e is None else [e.get('type'), e.get('message'), e.text]})",
      'print(json.dumps(out))',
    ].join('\n');
    const got = JSON.parse((await new ExecaRunner().run(['python3', '-c', code, file])).stdout) as {
      tests: string; failures: string; errors: string;
      cases: { name: string; time: string; failure: [string, string] | null; error: [string, string, string] | null }[];
    };
    expect([got.tests, got.failures, got.errors]).toEqual(['3', '1', '1']);
    expect(got.cases.map((c) => c.name)).toEqual(['x & <y>', 'thrown', 'fine']);
    expect(got.cases[0]?.time).toBe('1.234');
    expect(got.cases[0]?.failure?.[0]).toBe('1 of 2 checks failed: check "q"');
    // Text survives byte for byte except ESC and NUL, which XML 1.0 cannot carry.
    expect(got.cases[0]?.failure?.[1]).toBe(`FAIL check "q": ${nasty.replace(/\u001b/g, '\\x1b').replace(/\u0000/g, '\\x00')}`);
    expect(got.cases[1]?.error).toEqual(['LAB_TIMEOUT', 'first line <x>', 'first line <x>\nsecond & line']);
    expect(got.cases[2]?.failure).toBeNull();
    expect(got.cases[2]?.error).toBeNull();
  });
});

describe('mergeResults', () => {
  it('joins complete shards in matrix order, naming stages that are no node\'s after their shard', () => {
    const m = mergeResults([shardResults(2, 2), shardResults(1, 2)]);
    expect(m.cases.map((c) => c.id)).toEqual(MATRIX);
    expect(m.report.nodes.map((n) => n.scenario)).toEqual(MATRIX);
    expect(m.report.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(m.report.stages.filter((s) => s.stage.includes('lab: start')).map((s) => s.stage)).toEqual(['shard 1/2: lab: start', 'shard 2/2: lab: start']);
    expect(m.report.stages.filter((s) => s.stage.endsWith(': plan')).map((s) => s.stage).sort()).toEqual(MATRIX.map((id) => `n-${id}: plan`));
  });

  it('refuses shards of different splits, modes or case lists, and a shard that ran other than its share', () => {
    expect(() => mergeResults([shardResults(1, 2), shardResults(2, 3)])).toThrow(/different splits: 1\/2, 2\/3/);
    expect(() => mergeResults([shardResults(1, 2), shardResults(2, 2, { mode: 'vm' })])).toThrow(/different modes: plan, vm/);
    const other = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(() => mergeResults([shardResults(1, 2), shardResults(2, 2, { matrix: other })])).toThrow(/shard 2\/2 ran a different case list/);
    const wrong = shardResults(2, 2, { ids: casesForShard(MATRIX, 2, 2).slice(1) });
    expect(() => mergeResults([shardResults(1, 2), wrong])).toThrow(new RegExp(`shard 2/2 ran .*; its share is ${casesForShard(MATRIX, 2, 2).join(', ')}`));
    expect(() => mergeResults([shardResults(1, 2), wrong])).toThrow(new RegExp(`no results for ${casesForShard(MATRIX, 2, 2)[0]}`));
    expect(() => mergeResults([])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('an unsharded run merges alone as itself', () => {
    const whole = shardResults(1, 1, { shard: null });
    const m = mergeResults([whole]);
    expect(m.cases).toEqual(whole.cases);
    expect(m.report.stages.map((s) => s.stage)).toEqual(whole.report.stages.map((s) => s.stage));
  });
});
