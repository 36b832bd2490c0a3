import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isForgeError } from './errors.js';
import { parseJsonAs } from './parse-json.js';

const schema = z.object({ blockdevices: z.array(z.object({ name: z.string(), size: z.number() })) });

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseJsonAs', () => {
  it('returns the parsed value when it matches', () => {
    expect(parseJsonAs(schema, '{"blockdevices":[{"name":"sda","size":1}]}')).toEqual({ blockdevices: [{ name: 'sda', size: 1 }] });
  });
  it('names the command and the path of a wrong shape', () => {
    const e = caught(() => parseJsonAs(schema, '{"blockdevices":[{"name":"sda","size":"1"}]}', { command: ['lsblk', '-J'] }));
    expect(isForgeError(e) && e.code).toBe('TOOL_FAILED');
    expect(isForgeError(e) && e.command).toEqual(['lsblk', '-J']);
    expect((e as Error).message).toMatch(/^lsblk -J: unexpected output at blockdevices\.0\.size/);
  });
  it('reports text that is not JSON', () => {
    const e = caught(() => parseJsonAs(schema, 'lsblk: oops', { source: 'task reply', code: 'LAB_FAILED' }));
    expect(isForgeError(e) && e.code).toBe('LAB_FAILED');
    expect((e as Error).message).toMatch(/^task reply: output is not JSON/);
  });
});
