// Generated power-cut points for the lab's crash-consistency property: any step
// that writes to disk, a moment inside it (a delay after its start, or a percentage
// of the image), so each run cuts somewhere new unless a seed is given.
import fc from 'fast-check';
import { CUT_STEPS, type CutPoint } from '../lab/power-cut.js';

export const cutPointArb: fc.Arbitrary<CutPoint> = fc.constantFrom(...CUT_STEPS).chain((step): fc.Arbitrary<CutPoint> =>
  step === 'images'
    ? fc.record({ step: fc.constant(step), percent: fc.integer({ min: 1, max: 99 }), delayMs: fc.constant(0) })
    // The lab hears of a step start up to ~1.5 s late (the agent ships its log in batches): the delay adds to that.
    : fc.record({ step: fc.constant(step), delayMs: fc.integer({ min: 0, max: 3000 }) }));

/** `n` different cut points (different steps where there are enough of them) from one seed. */
export function cutPoints(seed: number, n: number): CutPoint[] {
  const [points] = fc.sample(fc.uniqueArray(cutPointArb, { minLength: n, maxLength: n, selector: (p) => p.step }), { seed, numRuns: 1 });
  return points ?? [];
}
