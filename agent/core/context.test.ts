import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createCtx, realClock } from './context.js';
import { silentLogger } from './log.js';
import { RecordingRunner, type RunOptions } from './runner.js';

describe('realClock.sleep', () => {
  it('leaves no abort listener behind once the timer fired, however often it polls', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) await realClock.sleep(1, ac.signal);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  it('rejects with the reason when aborted while sleeping, or already aborted', async () => {
    const ac = new AbortController();
    const p = realClock.sleep(60_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(realClock.sleep(1, ac.signal)).rejects.toThrow('stop');
  });
});

describe('ctx.run', () => {
  it('always hands the context signal to the runner, also on a spread copy', async () => {
    const seen: (AbortSignal | undefined)[] = [];
    const runner = new RecordingRunner();
    const run = runner.run.bind(runner);
    runner.run = (argv: readonly string[], opts?: RunOptions) => {
      seen.push(opts?.signal);
      return run(argv, opts);
    };
    const ctx = createCtx({ runner, log: silentLogger });
    await ctx.run(['true'], { timeoutMs: 5 });
    const other = new AbortController().signal;
    await { ...ctx, signal: other }.run(['true']);
    expect(seen).toEqual([ctx.signal, other]);
    expect(runner.calls).toEqual([['true'], ['true']]);
  });
});
