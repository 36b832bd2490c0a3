// zod issues → one ForgeError per problem, each naming its JSON path and saying
// what was expected in plain words (`…volumes[3].size: expected a number`).
import type { z } from 'zod';
import { displayValue, oneLineText } from '../core/display.js';
import { ForgeError, ForgeErrors, type ErrorCode } from '../core/errors.js';
import { formatPath } from './json-path.js';

const MAX_MESSAGE = 300;

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

function oneOf(values: readonly unknown[]): string {
  return values.map((v) => displayValue(v)).join(', ');
}

/**
 * The sentence after `<path>: ` for one issue. Values from the document are
 * shown through displayValue (escaped, cut short): a value with a newline or
 * NUL never splits the line.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      if (got === undefined) return 'required field is missing';
      const want = ARTICLE[issue.expected] ?? issue.expected;
      return `expected ${want}, got ${displayValue(got)}`;
    }
    case 'invalid_value':
      if (got === undefined) return 'required field is missing';
      return `expected one of ${oneOf(issue.values)}, got ${displayValue(got)}`;
    case 'too_small':
      if (issue.origin === 'string') return 'must not be empty';
      if (issue.origin === 'array') return `needs at least ${String(issue.minimum)} entries`;
      return `must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}, got ${displayValue(got)}`;
    case 'too_big':
      return `must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}, got ${displayValue(got)}`;
    case 'invalid_format':
      return issue.message && !issue.message.startsWith('Invalid') ? oneLineText(issue.message, MAX_MESSAGE) : `invalid ${issue.format}`;
    case 'invalid_key': {
      // A record key that failed its rule (an interface name): the rule's own reason.
      const inner = (issue as { issues?: readonly z.core.$ZodIssue[] }).issues?.[0];
      return `key ${inner ? describeIssue(inner, undefined) : 'is not allowed'}`;
    }
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${oneOf(issue.keys)}`;
    case 'invalid_union': {
      // A ks_spaces entry whose `type` is neither disk nor vg (zod puts the
      // discriminator itself on the path).
      const d = issue as { discriminator?: string; options?: unknown[] };
      if (d.discriminator) {
        if (got === undefined) return 'required field is missing';
        return `expected one of ${oneOf(d.options ?? [])}, got ${displayValue(got)}`;
      }
      return 'does not match any allowed shape';
    }
    default:
      // A refinement's own message may quote the value: kept to one line here too.
      return oneLineText(issue.message, MAX_MESSAGE);
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
