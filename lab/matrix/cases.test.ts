// Sharding by case: every case in exactly one shard whatever n, the same answer
// for the same set of ids whatever their order, refusals that name --shard.
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../agent/core/errors.js';
import { LAB_SCENARIOS } from '../scenario.js';
import { casesForShard, MATRIX_CASES, parseShard, TWO_NODES_CASE } from './cases.js';

describe('matrix cases and shards', () => {
  it('the matrix is every lab scenario plus the two-nodes case, each once', () => {
    expect([...MATRIX_CASES].sort()).toEqual([...LAB_SCENARIOS, TWO_NODES_CASE].sort());
    expect(new Set(MATRIX_CASES).size).toBe(MATRIX_CASES.length);
  });

  it.each(Array.from({ length: MATRIX_CASES.length + 2 }, (_, i) => i + 1))('n = %i: every case in exactly one shard, sizes within one', (n) => {
    const shards = Array.from({ length: n }, (_, i) => casesForShard(MATRIX_CASES, i + 1, n));
    expect(shards.flat().sort()).toEqual([...MATRIX_CASES].sort());
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    // Each shard keeps the matrix's own order.
    for (const s of shards) expect(s).toEqual(MATRIX_CASES.filter((c) => s.includes(c)));
  });

  it('is deterministic: the same shards for the same ids in any order', () => {
    const reversed = [...MATRIX_CASES].reverse();
    const rotated = [...MATRIX_CASES.slice(3), ...MATRIX_CASES.slice(0, 3)];
    for (const n of [2, 3, 4]) {
      for (let i = 1; i <= n; i++) {
        const base = [...casesForShard(MATRIX_CASES, i, n)].sort();
        expect([...casesForShard(reversed, i, n)].sort()).toEqual(base);
        expect([...casesForShard(rotated, i, n)].sort()).toEqual(base);
        expect(casesForShard(MATRIX_CASES, i, n)).toEqual(casesForShard(MATRIX_CASES, i, n));
      }
    }
  });

  it('parses i/n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 1 / 1 ')).toEqual({ index: 1, count: 1 });
  });

  it.each(['0/2', '3/2', '1/0', '-1/2', '1.5/2', '2', 'a/b', '', '1/2/3', '99999999999999999999/1'])('refuses --shard %j as USAGE naming --shard', (text) => {
    let err: unknown;
    try {
      parseShard(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ code: 'USAGE', field: '--shard' });
    expect((err as Error).message).toContain('--shard');
  });

  it('casesForShard refuses a shard out of range and a case listed twice', () => {
    expect(() => casesForShard(MATRIX_CASES, 3, 2)).toThrow(expect.objectContaining({ code: 'USAGE', field: '--shard' }));
    expect(() => casesForShard(MATRIX_CASES, 0, 2)).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => casesForShard(['a', 'b', 'a'], 1, 2)).toThrow(/a is listed twice/);
  });
});
