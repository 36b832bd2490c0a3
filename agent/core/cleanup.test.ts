import { describe, expect, it } from 'vitest';
import { CleanupFailed, CleanupStack } from './cleanup.js';
import { ForgeError } from './errors.js';

describe('CleanupStack', () => {
  it('releases last in, first out, once', async () => {
    const order: string[] = [];
    const s = new CleanupStack();
    s.defer('a', () => void order.push('a'));
    s.defer('b', async () => void order.push('b'));
    expect(s.size).toBe(2);
    await s.dispose();
    await s.dispose();
    expect(order).toEqual(['b', 'a']);
    expect(s.size).toBe(0);
  });

  it('keeps going past failures and names every failed release in one typed error', async () => {
    const order: string[] = [];
    const s = new CleanupStack({ code: 'LAB_FAILED' });
    s.defer('a', () => void order.push('a'));
    s.defer('b', () => {
      order.push('b');
      throw new Error('busy');
    });
    s.defer('c', () => Promise.reject(new ForgeError('TOOL_FAILED', 'gone')));
    const err = (await s.dispose().catch((e: unknown) => e)) as CleanupFailed;
    expect(order).toEqual(['b', 'a']);
    expect(err).toBeInstanceOf(CleanupFailed);
    expect(err.code).toBe('LAB_FAILED');
    expect(err.message).toBe('cleanup failed: c: gone; b: busy');
    expect(err.failed.map((f) => f.what)).toEqual(['c', 'b']);
    expect(err.details).toEqual({ failed: ['c', 'b'] });
  });

  it('defaults to TOOL_FAILED and refuses releases after disposal', async () => {
    const s = new CleanupStack();
    s.defer('x', () => Promise.reject(new Error('no')));
    await expect(s.dispose()).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(() => s.defer('late', () => undefined)).toThrow(/already disposed/);
  });

  it('works with await using', async () => {
    const order: string[] = [];
    {
      await using s = new CleanupStack();
      s.defer('a', () => void order.push('a'));
    }
    expect(order).toEqual(['a']);
  });

  it('unwind releases and rethrows the start-up error, with a release failure attached to it', async () => {
    const s = new CleanupStack({ code: 'LAB_FAILED' });
    s.defer('vm', () => Promise.reject(new Error('stuck')));
    const start = new ForgeError('LAB_TIMEOUT', 'QMP not ready');
    await expect(s.unwind(start)).rejects.toBe(start);
    expect(start.details['cleanup']).toBe('cleanup failed: vm: stuck');

    const clean = new CleanupStack();
    const plain = new TypeError('bug');
    await expect(clean.unwind(plain)).rejects.toBe(plain);
  });
});
