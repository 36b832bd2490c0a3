import { describe, expect, it } from 'vitest';
import { issuesToErrors } from '../schema/issues.js';
import { parseProvisionData } from '../schema/load.js';
import { displayValue, oneLineText } from './display.js';
import { ForgeError, ForgeErrors } from './errors.js';
import { formatError, MAX_ERROR_LINE } from './format-error.js';
import { ToolError } from './runner.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('formatError', () => {
  it('prints a schema list and a single error in the same shape, with the code on every line', () => {
    const list = new ForgeErrors('CONFIG_INVALID', [
      new ForgeError('CONFIG_INVALID', 'ks_meta.hostname: must not be empty', { field: 'ks_meta.hostname' }),
      new ForgeError('CONFIG_INVALID', 'ks_meta.pm_data.ks_spaces[0].size: expected a number, got "x"', { field: 'ks_meta.pm_data.ks_spaces[0].size' }),
    ]);
    expect(formatError(list)).toEqual([
      'error [CONFIG_INVALID] ks_meta.hostname: must not be empty',
      'error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].size: expected a number, got "x"',
    ]);
    expect(formatError(new ForgeError('DISK_NOT_FOUND', 'ks_meta.pm_data.ks_spaces[1]: disk vdb not found'))).toEqual([
      'error [DISK_NOT_FOUND] ks_meta.pm_data.ks_spaces[1]: disk vdb not found',
    ]);
    // A list of mixed codes keeps each problem's own code; an empty list still prints its own line.
    const mixed = new ForgeErrors('PLAN_INVALID', [new ForgeError('SIZE_DOES_NOT_FIT', 'a.size: too big'), new ForgeError('PLAN_INVALID', 'b: bad')]);
    expect(formatError(mixed)).toEqual(['error [SIZE_DOES_NOT_FIT] a.size: too big', 'error [PLAN_INVALID] b: bad']);
    expect(formatError(new ForgeErrors('CONFIG_INVALID', []))).toEqual(['error [CONFIG_INVALID] ']);
  });

  it('keeps any message to one line: newline, NUL, CR, U+2028, U+0085 and bidi overrides are escaped', () => {
    const e = new ForgeError('PLAN_INVALID', 'x: a\nb\u0000c\rd\u2028e\u0085f\u202eg\th');
    expect(formatError(e)).toEqual(['error [PLAN_INVALID] x: a\\nb\\u0000c\\rd\\u2028e\\u0085f\\u202eg\\th']);
  });

  it('prints a tool failure and its stderr tail as one line', () => {
    const te = new ToolError({ argv: ['mkfs.xfs', '/dev/sda3'], exitCode: 1, stdout: '', stderr: 'line one\nline two\n', durationMs: 1, timedOut: false, skipped: false });
    const lines = formatError(te);
    expect(lines).toEqual(['error [TOOL_FAILED] mkfs.xfs exited 1: mkfs.xfs /dev/sda3\\n  stderr: line one\\nline two']);
  });

  it('cuts a huge message', () => {
    const [l, ...rest] = formatError(new ForgeError('CONFIG_INVALID', `x: ${'a'.repeat(100_000)}`));
    expect(rest).toEqual([]);
    expect(l!.length).toBeLessThan(MAX_ERROR_LINE + 40);
    expect(l!.endsWith('…')).toBe(true);
  });

  it('prints a USAGE error on one line and the usage text after it', () => {
    const e = new ForgeError('USAGE', "Unknown option '--x\ny'\nusage: provision plan [--input FILE]\n        [--json]");
    expect(formatError(e)).toEqual(["error [USAGE] Unknown option '--x\\ny'", 'usage: provision plan [--input FILE]', '        [--json]']);
    expect(formatError(new ForgeError('USAGE', '--stall-timeout must be a whole number'))).toEqual(['error [USAGE] --stall-timeout must be a whole number']);
  });

  it('marks anything that is not a ForgeError as INTERNAL (a bug), still on one line', () => {
    expect(formatError(new TypeError('x is not\na function'))).toEqual(['error [INTERNAL] TypeError: x is not\\na function']);
    expect(formatError('plain')).toEqual(['error [INTERNAL] plain']);
    expect(formatError(Object.create(null))).toEqual(['error [INTERNAL] a thrown object']);
  });

  it('shows a schema value with a newline and a NUL escaped, one line per problem', () => {
    const doc = { ks_meta: { pm_data: { ks_spaces: [{ type: 'disk\nvg', id: 'sda', name: 'sda', size: 'big\n\u0000x', volumes: [] }] } } };
    const lines = formatError(thrown(() => parseProvisionData(doc)));
    for (const l of lines) expect(l).toMatch(/^error \[CONFIG_INVALID\] [^\n\u0000]+$/);
    expect(lines).toContain('error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].type: expected one of "disk", "vg", got "disk\\nvg"');
  });

  it('escapes values in every kind of schema issue', () => {
    const issues = [
      { code: 'invalid_type', expected: 'number', path: ['a'], message: '' },
      { code: 'invalid_value', values: ['x'], path: ['b'], message: '' },
      { code: 'too_big', origin: 'number', maximum: 1, inclusive: true, path: ['c'], message: '' },
      { code: 'custom', path: ['d'], message: 'bad value "p\nq"' },
      { code: 'unrecognized_keys', keys: ['k\nl'], path: [], message: '' },
    ] as unknown as Parameters<typeof issuesToErrors>[1];
    const input = { a: 'a\nb', b: 'c\u2028d', c: 'e\u0000f', d: 1 };
    const lines = formatError(issuesToErrors('CONFIG_INVALID', issues, input));
    expect(lines).toEqual([
      'error [CONFIG_INVALID] a: expected a number, got "a\\nb"',
      'error [CONFIG_INVALID] b: expected one of "x", got "c\\u2028d"',
      'error [CONFIG_INVALID] c: must be <= 1, got "e\\u0000f"',
      'error [CONFIG_INVALID] d: bad value "p\\nq"',
      'error [CONFIG_INVALID] (document): unknown field "k\\nl"',
    ]);
  });
});

describe('display', () => {
  it('displayValue quotes, escapes and cuts; oneLineText escapes and cuts', () => {
    expect(displayValue('a\nb\u0000')).toBe('"a\\nb\\u0000"');
    expect(displayValue('x'.repeat(70))).toBe(`"${'x'.repeat(60)}"…`);
    expect(oneLineText('a\nb', 2)).toBe('a\\n…');
    expect(oneLineText('plain text')).toBe('plain text');
  });
});
