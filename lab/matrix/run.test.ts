// A shard always leaves a result for each of its cases: a case that throws, a
// setup that fails, an abort half-way, a teardown that fails.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ForgeError } from '../../agent/core/errors.js';
import { readMatrixResults } from './outputs.js';
import { runMatrix, type CaseContext, type MatrixCaseRunner } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-matrix-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const CASES = ['a', 'b', 'c', 'd'];

/** Cases pass, except those `fail` names (a failed check) or `throws` names. */
function fake(o: { fail?: string[]; throws?: string[]; setup?: () => Promise<void>; dispose?: () => Promise<void>; onRun?: (c: CaseContext) => void } = {}) {
  const ran: string[] = [];
  let disposed = 0;
  const runner: MatrixCaseRunner = {
    mode: 'plan',
    setup: o.setup ?? (async () => undefined),
    async run(c) {
      ran.push(c.id);
      o.onRun?.(c);
      if (o.throws?.includes(c.id)) throw new ForgeError('LAB_FAILED', `${c.id} broke`);
      const ok = !o.fail?.includes(c.id);
      return { nodes: [{ name: `n${c.position}`, scenario: c.id, checks: [{ name: 'x', ok, detail: c.id }], images: [], ok }] };
    },
    async dispose() {
      disposed++;
      await o.dispose?.();
    },
  };
  return { runner, ran, disposed: () => disposed };
}

describe('runMatrix', () => {
  it('records failed and thrown cases and goes on with the rest', async () => {
    const f = fake({ fail: ['b'], throws: ['c'] });
    const r = await runMatrix({ cases: CASES, runCase: f.runner, outDir: join(dir, 'mixed'), signal: new AbortController().signal });
    expect(f.ran).toEqual(CASES);
    expect(r.cases.map((c) => [c.id, c.ok])).toEqual([['a', true], ['b', false], ['c', false], ['d', true]]);
    expect(r.cases[2]?.error).toEqual({ code: 'LAB_FAILED', message: 'c broke' });
    expect(f.disposed()).toBe(1);
    expect(readMatrixResults(join(dir, 'mixed')).cases).toEqual(r.cases);
  });

  it('--cases runs only the named cases, at their positions in the whole matrix, and refuses unknown ones', async () => {
    const positions: Record<string, number> = {};
    const f = fake({ onRun: (c) => void (positions[c.id] = c.position) });
    const r = await runMatrix({ cases: CASES, only: ['d', 'b'], runCase: f.runner, outDir: join(dir, 'only'), signal: new AbortController().signal });
    expect(f.ran).toEqual(['b', 'd']);
    expect(positions).toEqual({ b: 1, d: 3 });
    expect(r.report.rerun).toBe('npx tsx lab/cli.ts matrix --cases d,b --dry-run');
    await expect(runMatrix({ cases: CASES, only: ['b', 'zz'], runCase: f.runner, outDir: join(dir, 'bad'), signal: new AbortController().signal })).rejects.toThrow(
      /--cases: not in the matrix: zz/,
    );
  });

  it('a failed setup fails every case of the shard with its error, and still tears down', async () => {
    const f = fake({ setup: async () => { throw new ForgeError('LAB_TIMEOUT', 'master network never came up'); } });
    const r = await runMatrix({ cases: CASES, shard: { index: 2, count: 2 }, runCase: f.runner, outDir: join(dir, 'setup'), signal: new AbortController().signal });
    expect(f.ran).toEqual([]);
    expect(r.cases.map((c) => c.id).length).toBe(2);
    for (const c of r.cases) expect(c).toMatchObject({ ok: false, error: { code: 'LAB_TIMEOUT', message: 'setup failed: master network never came up' } });
    expect(f.disposed()).toBe(1);
  });

  it('an abort leaves the remaining cases as not run', async () => {
    const ac = new AbortController();
    const f = fake({ onRun: (c) => void (c.id === 'b' && ac.abort()) });
    const r = await runMatrix({ cases: CASES, runCase: f.runner, outDir: join(dir, 'abort'), signal: ac.signal });
    expect(f.ran).toEqual(['a', 'b']);
    expect(r.cases.slice(2).map((c) => [c.id, c.error?.code])).toEqual([['c', 'ABORTED'], ['d', 'ABORTED']]);
  });

  it('a teardown failure is thrown after the results are written', async () => {
    const f = fake({ dispose: async () => { throw new ForgeError('LAB_FAILED', 'VM would not die'); } });
    await expect(runMatrix({ cases: CASES, runCase: f.runner, outDir: join(dir, 'teardown'), signal: new AbortController().signal })).rejects.toThrow('VM would not die');
    expect(existsSync(join(dir, 'teardown', 'junit.xml'))).toBe(true);
    expect(readMatrixResults(join(dir, 'teardown')).cases.every((c) => c.ok)).toBe(true);
  });
});
