import { describe, expect, it } from 'vitest';
import { ForgeError } from './errors.js';
import { createLogger, memorySink, silentLogger, type LogEvent } from './log.js';
import { Sequence, StepFailed, runSteps, stepEvents, type Step } from './sequence.js';

const ok = (name: string, calls: string[], extra: Partial<Step> = {}): Step => ({
  name,
  run: async () => {
    calls.push(name);
  },
  ...extra,
});

describe('runSteps', () => {
  it('runs steps in order, records each and logs start/done with the caller\'s event names', async () => {
    const calls: string[] = [];
    const events: LogEvent[] = [];
    const records = await runSteps({ log: createLogger([memorySink(events)]) }, [ok('a', calls, { leaves: 'tables' }), ok('b', calls)], {
      events: stepEvents('partition.step'),
      fields: { dryRun: true },
    });
    expect(calls).toEqual(['a', 'b']);
    expect(records.map((r) => `${r.name}:${r.outcome}`)).toEqual(['a:ok', 'b:ok']);
    expect(records[0]).toMatchObject({ leaves: 'tables', startedAt: expect.stringMatching(/^\d{4}-/), durationMs: expect.any(Number) });
    expect(events.map((e) => `${e.event}:${String(e['step'])}`)).toEqual([
      'partition.step.start:a', 'partition.step.done:a', 'partition.step.start:b', 'partition.step.done:b',
    ]);
    expect(events[0]).toMatchObject({ dryRun: true, leaves: 'tables' });
  });

  it('records skipped steps without running them', async () => {
    const calls: string[] = [];
    const records = await runSteps({ log: silentLogger }, [ok('a', calls), ok('b', calls, { skip: true }), ok('c', calls)]);
    expect(calls).toEqual(['a', 'c']);
    expect(records.map((r) => r.outcome)).toEqual(['ok', 'skipped', 'ok']);
  });

  it('stops at the first failure with StepFailed carrying the step, the records and the step\'s own error', async () => {
    const calls: string[] = [];
    const events: LogEvent[] = [];
    const boom = new ForgeError('DISK_CHANGED', 'disk changed\nmore');
    const failing: Step = { name: 'b', run: () => Promise.reject(boom) };
    const err = await runSteps({ log: createLogger([memorySink(events)]) }, [ok('a', calls), failing, ok('c', calls)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StepFailed);
    const f = err as StepFailed;
    expect(f.step).toBe('b');
    expect(f.code).toBe('DISK_CHANGED');
    expect(f.cause).toBe(boom);
    expect(f.records.map((r) => `${r.name}:${r.outcome}`)).toEqual(['a:ok', 'b:failed']);
    expect(f.records[1]?.error).toMatchObject({ code: 'DISK_CHANGED' });
    expect(calls).toEqual(['a']);
    expect(events.find((e) => e.event === 'step.failed')).toMatchObject({ step: 'b', outcome: 'failed', summary: 'disk changed' });
  });

  it('uses the caller\'s code for errors that are not ForgeErrors', async () => {
    const err = await runSteps({ log: silentLogger }, [{ name: 'x', run: () => Promise.reject(new TypeError('bug')) }], { failCode: 'LAB_FAILED' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LAB_FAILED', step: 'x' });
    expect((err as StepFailed).records[0]?.error).toMatchObject({ code: 'INTERNAL', message: 'bug' });
  });

  it('aborts before the next step once the signal fired, naming it', async () => {
    const ac = new AbortController();
    const calls: string[] = [];
    const first: Step = { name: 'a', run: async () => ac.abort(new Error('SIGTERM')) };
    const err = (await runSteps({ log: silentLogger, signal: ac.signal }, [first, ok('b', calls)]).catch((e: unknown) => e)) as StepFailed;
    expect(err.step).toBe('b');
    expect((err.cause as ForgeError).code).toBe('ABORTED');
    expect((err.cause as ForgeError).message).toBe('aborted before b');
    expect(calls).toEqual([]);
  });

  it('times a step out with the caller\'s code and aborts its signal, even when the body ignores it', async () => {
    let seen: AbortSignal | undefined;
    const slow: Step = {
      name: 'slow',
      timeoutMs: 20,
      run: (signal) => {
        seen = signal;
        return new Promise(() => undefined);
      },
    };
    const err = (await runSteps({ log: silentLogger }, [slow], { timeoutCode: 'LAB_TIMEOUT' }).catch((e: unknown) => e)) as StepFailed;
    expect(err.code).toBe('LAB_TIMEOUT');
    expect((err.cause as ForgeError).message).toMatch(/slow timed out after 20 ms/);
    expect(seen?.aborted).toBe(true);
  });

  it('ends a timed step at once when the sequence is cancelled, even when the body ignores its signal', async () => {
    const ac = new AbortController();
    const stuck: Step = { name: 'boot', timeoutMs: 60_000, run: () => new Promise(() => undefined) };
    setTimeout(() => ac.abort(new ForgeError('ABORTED', 'received SIGINT')), 10);
    const t0 = Date.now();
    const err = (await runSteps({ log: silentLogger, signal: ac.signal }, [stuck]).catch((e: unknown) => e)) as StepFailed;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(err.step).toBe('boot');
    expect((err.cause as ForgeError).code).toBe('ABORTED');
    expect((err.cause as ForgeError).message).toBe('boot cancelled');
  });

  it('passes the sequence signal to a step without a timeout', async () => {
    const ac = new AbortController();
    let seen: AbortSignal | undefined;
    await runSteps({ log: silentLogger, signal: ac.signal }, [{ name: 'a', run: async (s) => void (seen = s) }]);
    expect(seen).toBe(ac.signal);
  });
});

describe('Sequence', () => {
  it('runs single steps, returning their value and throwing their own error', async () => {
    const seq = new Sequence({ log: silentLogger });
    expect(await seq.run({ name: 'one', run: async () => 42 })).toBe(42);
    const boom = new ForgeError('LAB_FAILED', 'no');
    await expect(seq.run({ name: 'two', run: () => Promise.reject(boom) })).rejects.toBe(boom);
    seq.skip({ name: 'three' });
    expect(seq.records.map((r) => `${r.name}:${r.outcome}`)).toEqual(['one:ok', 'two:failed', 'three:skipped']);
  });
});
