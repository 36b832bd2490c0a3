import { describe, expect, it } from 'vitest';
import { commands } from './index.js';
import { defineOptions } from './options.js';

const opts = defineOptions({
  input: { type: 'string', arg: 'FILE', default: '/tmp/p.json', help: 'data' },
  out: { type: 'string', arg: 'DIR', required: true, help: 'where' },
  format: { type: 'string', arg: 'F', choices: ['vfat', 'iso9660'], help: 'fs' },
  json: { type: 'boolean', help: 'JSON' },
});

describe('defineOptions', () => {
  it('parses into typed values with defaults, booleans always present', () => {
    const v = opts.parse(['--out', '/x', '--format', 'iso9660'], 'demo');
    expect(v).toEqual({ input: '/tmp/p.json', out: '/x', format: 'iso9660', json: false });
  });

  it('generates the usage line from the same table, required options first and unbracketed', () => {
    expect(opts.usage('demo')).toBe('usage: provision demo --out DIR [--input FILE (default /tmp/p.json)] [--format vfat|iso9660] [--json]');
    expect(opts.help()).toMatch(/^ {2}--input FILE\s+data \(default \/tmp\/p\.json\)$/m);
  });

  it('turns every bad option into USAGE naming the option, with the usage after it', () => {
    expect(() => opts.parse(['--out', '/x', '--frob'], 'demo')).toThrow(expect.objectContaining({ code: 'USAGE', field: 'frob' }));
    expect(() => opts.parse(['--out', '/x', '--frob'], 'demo')).toThrow(/Unknown option '--frob'\nusage: provision demo --out DIR/);
    expect(() => opts.parse(['--out'], 'demo')).toThrow(expect.objectContaining({ code: 'USAGE', field: 'out' }));
    expect(() => opts.parse([], 'demo')).toThrow(expect.objectContaining({ code: 'USAGE', field: 'out', message: expect.stringMatching(/^--out DIR is required\n/) }));
    expect(() => opts.parse(['--out', '/x', '--format', 'udf'], 'demo'))
      .toThrow(expect.objectContaining({ code: 'USAGE', field: 'format', message: '--format must be vfat or iso9660, got udf' }));
    expect(() => opts.parse(['--out', '/x', 'extra'], 'demo')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('every provision command', () => {
  it('shows in its usage and --help exactly the options it parses', async () => {
    for (const [name, load] of Object.entries(commands)) {
      const cmd = await load();
      expect(cmd.usage, name).toMatch(/^usage: provision /);
      for (const flag of cmd.options?.match(/^ {2}--[a-z-]+/gm) ?? []) expect(cmd.usage, `${name} ${flag}`).toContain(flag.trim());
      for (const flag of cmd.usage.match(/--[a-z-]+/g) ?? []) {
        if (flag === '--out' && name === 'configdrive') continue;
        expect(cmd.options ?? '', `${name} ${flag}`).toContain(`  ${flag}`);
      }
    }
  });
});
