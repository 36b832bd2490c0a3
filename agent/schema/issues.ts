// zod issues → one ForgeError per problem, each naming its JSON path and saying
// what was expected in plain words (`…volumes[3].size: expected a number`).
import type { z } from 'zod';
import { ForgeError, ForgeErrors, type ErrorCode } from '../core/errors.js';
import { formatPath } from './json-path.js';

const ARTICLE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  int: 'an integer',
  record: 'an object',
};

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg as string];
  }
  return cur;
}

function describeReceived(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** The sentence after `<path>: ` for one issue. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      if (got === undefined) return 'required field is missing';
      const want = ARTICLE[issue.expected] ?? issue.expected;
      return `expected ${want}, got ${describeReceived(got)}`;
    }
    case 'invalid_value':
      if (got === undefined) return 'required field is missing';
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeReceived(got)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} entries`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${describeReceived(got)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${describeReceived(got)}`;
    case 'invalid_format':
      return issue.message && !issue.message.startsWith('Invalid') ? issue.message : `invalid ${issue.format}`;
    case 'invalid_union': {
      // A ks_spaces entry whose `type` is neither disk nor vg (zod puts the
      // discriminator itself on the path).
      const d = issue as { discriminator?: string; options?: unknown[] };
      if (d.discriminator) {
        if (got === undefined) return 'required field is missing';
        const opts = (d.options ?? []).map((o) => JSON.stringify(o)).join(', ');
        return `expected one of ${opts}, got ${describeReceived(got)}`;
      }
      return 'does not match any allowed shape';
    }
    default:
      return issue.message;
  }
}

export function issuesToErrors(
  code: ErrorCode,
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  prefix = '',
): ForgeErrors {
  const errors = issues.map((issue) => {
    const field = formatPath(issue.path);
    const msg = `${prefix}${field}: ${describeIssue(issue, input)}`;
    return new ForgeError(code, msg, { field, details: { zodCode: issue.code } });
  });
  return new ForgeErrors(code, errors);
}
