// Field-by-field comparison with per-field rules (exact by default).
import type { VerifyItem, VerifyKind } from './types.js';

export type FieldRule = (expected: unknown, actual: unknown) => boolean;

const exact: FieldRule = (e, a) => JSON.stringify(e) === JSON.stringify(a);

export function compareItem(
  kind: VerifyKind,
  id: string,
  expected: Record<string, unknown> | null,
  actual: Record<string, unknown> | null,
  rules: Record<string, FieldRule> = {},
): VerifyItem {
  if (expected === null || actual === null) {
    return { kind, id, expected, actual, ok: false, mismatches: [expected === null ? 'unexpected' : 'missing'] };
  }
  const mismatches = Object.keys(expected).filter((k) => !(rules[k] ?? exact)(expected[k], actual[k]));
  return { kind, id, expected, actual, ok: mismatches.length === 0, mismatches };
}

export const caseInsensitive: FieldRule = (e, a) =>
  typeof e === 'string' && typeof a === 'string' ? e.toLowerCase() === a.toLowerCase() : exact(e, a);

/** `actual` may exceed `expected` by less than `slack` (LVM rounds up to whole extents). */
export function roundedUp(slack: () => number): FieldRule {
  return (e, a) => typeof e === 'number' && typeof a === 'number' && a >= e && a - e < Math.max(slack(), 1e-9);
}

export const atLeast: FieldRule = (e, a) => typeof e === 'number' && typeof a === 'number' && a >= e;

/** Renders failed items as a readable per-field diff. */
export function formatDiff(items: readonly VerifyItem[]): string {
  const lines: string[] = [];
  for (const it of items) {
    if (it.ok) continue;
    if (it.expected === null) {
      lines.push(`✗ ${it.kind} ${it.id}: not in the plan, found ${JSON.stringify(it.actual)}`);
    } else if (it.actual === null) {
      lines.push(`✗ ${it.kind} ${it.id}: missing, expected ${JSON.stringify(it.expected)}`);
    } else {
      for (const f of it.mismatches) {
        lines.push(`✗ ${it.kind} ${it.id}: ${f} expected ${JSON.stringify(it.expected[f])}, actual ${JSON.stringify(it.actual[f])}`);
      }
    }
  }
  return lines.join('\n');
}
