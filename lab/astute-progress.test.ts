import { describe, expect, it } from 'vitest';
import { astuteProgress } from './orchestrator.js';

const line = (percent: number): string => JSON.stringify({ ts: '2026-11-29T10:00:00Z', level: 'info', event: 'image.progress', percent });

describe("Astute's progress rule", () => {
  it('maps the image write onto 10–90 %, in steps of at least 5: bounded updates per node however often the agent reports', () => {
    const put: number[] = [];
    const feed = astuteProgress((p) => put.push(p));
    for (let i = 0; i <= 1000; i++) feed(line(i / 10));
    feed('{"event":"run.step.end","step":"images"}');
    feed('not json');
    expect(put[0]).toBe(10);
    expect(put.at(-1)).toBe(90);
    expect(put.length).toBeLessThanOrEqual(17);
    expect(put.every((p, i) => i === 0 || p - (put[i - 1] ?? 0) >= 5)).toBe(true);
  });
});
