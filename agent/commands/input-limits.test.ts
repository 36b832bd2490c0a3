// Hostile and careless input files at the CLI (issue 12, class 8): devices,
// FIFOs, directories and values with line breaks give exit 2 and exactly one
// `error [CODE] …` line per problem, promptly.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../core/runner.js';
import { scenarioPaths } from '../plan/fixtures.js';
import { runCli as run } from '../testing/cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-input-limits-'));
const fifo = join(dir, 'fifo.json');
const single = scenarioPaths('single-disk');

beforeAll(async () => {
  await new ExecaRunner().run(['mkfifo', fifo]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The input with `edit` applied to its parsed JSON, written to a file. */
function variant(name: string, edit: (d: Record<string, any>) => void): string {
  const d = JSON.parse(readFileSync(single.input, 'utf8')) as Record<string, any>;
  edit(d);
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(d));
  return f;
}

describe('input files that are not regular files', () => {
  it('provision plan --input /dev/zero: exit 2, one error line, nothing read', async () => {
    const started = Date.now();
    const r = await run(['plan', '--input', '/dev/zero', '--inventory', single.inventory]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toEqual({ code: 2, out: '', err: 'error [INPUT_UNREADABLE] --input "/dev/zero": is a character device, not a regular file' });
  });

  it('provision plan --inventory FIFO returns promptly instead of waiting for a writer', async () => {
    const started = Date.now();
    const r = await run(['plan', '--input', single.input, '--inventory', fifo]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toEqual({ code: 2, out: '', err: `error [INPUT_UNREADABLE] --inventory "${fifo}": is a FIFO (named pipe), not a regular file` });
  }, 10_000);

  it('provision partition --plan DIR and an oversize plan are refused before anything runs', async () => {
    mkdirSync(join(dir, 'plan-dir'));
    const r = await run(['partition', '--plan', join(dir, 'plan-dir'), '--dry-run']);
    expect(r).toEqual({ code: 2, out: '', err: `error [INPUT_UNREADABLE] --plan "${join(dir, 'plan-dir')}": is a directory, not a regular file` });
    const bad = join(dir, 'null-plan.json');
    writeFileSync(bad, 'null');
    const n = await run(['partition', '--plan', bad, '--dry-run']);
    expect(n).toEqual({ code: 2, out: '', err: `error [PLAN_INVALID] --plan "${bad}": not a version 1 plan (provision plan --json)` });
  });

  it('provision run --input /dev/zero stops at validate with one error line and exit 2', async () => {
    const report = join(dir, 'run-report.json');
    const r = await run(['run', '--input', '/dev/zero', '--dry-run', '--log', join(dir, 'run.log'), '--report', report]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('error [INPUT_UNREADABLE] --input "/dev/zero": is a character device, not a regular file');
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ ok: false, stoppedAt: 'validate', error: { code: 'INPUT_UNREADABLE', field: '--input' } });
  });
});

describe('values with line breaks and NULs in error lines', () => {
  it('prints exactly one line per problem, the values escaped', async () => {
    const f = variant('hostile-values', (d) => {
      const space = d.ks_meta.pm_data.ks_spaces[0];
      space.size = 'big\n\u0000error [FAKE] injected';
      space.volumes[1].type = 'partition\r\nerror [FAKE] injected';
      space.volumes[2].size = 'x\u2028y';
    });
    const r = await run(['plan', '--input', f, '--inventory', single.inventory]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.split('\n');
    expect(lines).toEqual([
      'error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].size: expected a number, got "big\\n\\u0000error [FAKE] injected"',
      expect.stringMatching(/^error \[CONFIG_INVALID\] ks_meta\.pm_data\.ks_spaces\[0\]\.volumes\[1\]\.type: expected one of .*, got "partition\\r\\nerror \[FAKE\] injected"$/),
      'error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].volumes[2].size: expected a number, got "x\\u2028y"',
    ]);
  });

  it('keeps a plan-stage error about a hostile key on one line too', async () => {
    const f = variant('hostile-key', (d) => {
      d.ks_meta.image_data['/\nerror [FAKE] x'] = { uri: 'http://10.20.0.2:8080/images/x.img.gz', format: 'ext4', container: 'gzip' };
    });
    const r = await run(['plan', '--input', f, '--inventory', single.inventory]);
    expect(r.code).toBe(2);
    const lines = r.err.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error \[[A-Z_]+\] ks_meta\.image_data\["\/\\nerror \[FAKE\] x"\]/);
    expect(lines[0]).not.toMatch(/[\u0000-\u001f\u2028\u2029]/);
  });
});
