import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { FIXTURE_PAIRS, NAILGUN_DIR } from '../plan/fixtures.js';
import { formatPath } from './json-path.js';
import { loadProvisionData, parseProvisionData } from './load.js';

const sample = () => JSON.parse(readFileSync(`${NAILGUN_DIR}provision_sample.json`, 'utf8')) as Record<string, any>;

function errorsOf(fn: () => unknown): ForgeError[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ForgeErrors);
    const errs = (e as ForgeErrors).errors;
    for (const x of errs) expect(x.code).toBe('CONFIG_INVALID');
    return [...errs];
  }
  throw new Error('expected the document to be rejected');
}

describe('formatPath', () => {
  it('writes indexes in brackets and quotes keys that are not identifiers', () => {
    expect(formatPath(['ks_meta', 'pm_data', 'ks_spaces', 1, 'volumes', 3, 'size'])).toBe('ks_meta.pm_data.ks_spaces[1].volumes[3].size');
    expect(formatPath(['ks_meta', 'image_data', '/boot', 'uri'])).toBe('ks_meta.image_data["/boot"].uri');
    expect(formatPath([])).toBe('(document)');
  });
});

describe('parseProvisionData', () => {
  it.each(FIXTURE_PAIRS.map((p) => [p.name, p.input]))('parses the fixture %s', async (_n, input) => {
    const d = await loadProvisionData(input);
    expect(d.ks_meta.pm_data.ks_spaces).toBeInstanceOf(Array);
  });

  it('keeps unknown fields at every level', () => {
    const doc = sample();
    doc.future_top = { a: 1 };
    doc.ks_meta.pm_data.ks_spaces[0].volumes[1].nailgun_10_field = 'x';
    doc.ks_meta.image_data['/'].extra_meta = true;
    const d = parseProvisionData(doc) as Record<string, any>;
    expect(d.future_top).toEqual({ a: 1 });
    expect(d.ks_meta.pm_data.ks_spaces[0].volumes[1].nailgun_10_field).toBe('x');
    expect(d.ks_meta.image_data['/'].extra_meta).toBe(true);
    expect(d.ks_meta.mco_user).toBe('mcollective');
  });

  it('names the JSON path of a wrong type', () => {
    const doc = sample();
    doc.ks_meta.pm_data.ks_spaces[1].volumes[3].size = 'big';
    const [e, ...rest] = errorsOf(() => parseProvisionData(doc));
    expect(rest).toEqual([]);
    expect(e!.field).toBe('ks_meta.pm_data.ks_spaces[1].volumes[3].size');
    expect(e!.message).toMatch(/^ks_meta\.pm_data\.ks_spaces\[1\]\.volumes\[3\]\.size: expected a number/);
  });

  it('reports every problem, one error each', () => {
    const doc = sample();
    delete doc.ks_meta.pm_data.ks_spaces[0].volumes[0].type;
    doc.ks_meta.pm_data.ks_spaces[2].type = 'floppy';
    doc.ks_meta.pm_data.ks_spaces[4].volumes[0].size = -3;
    doc.ks_meta.image_data['/'].container = 'bzip2';
    delete doc.ks_meta.pm_data.ks_spaces[1].volumes[4].vg;
    const errs = errorsOf(() => parseProvisionData(doc));
    expect(errs.map((e) => e.field).sort()).toEqual([
      'ks_meta.image_data["/"].container',
      'ks_meta.pm_data.ks_spaces[0].volumes[0].type',
      'ks_meta.pm_data.ks_spaces[1].volumes[4].vg',
      'ks_meta.pm_data.ks_spaces[2].type',
      'ks_meta.pm_data.ks_spaces[4].volumes[0].size',
    ]);
    const byField = new Map(errs.map((e) => [e.field, e.message]));
    expect(byField.get('ks_meta.pm_data.ks_spaces[0].volumes[0].type')).toMatch(/required field is missing/);
    expect(byField.get('ks_meta.pm_data.ks_spaces[2].type')).toMatch(/expected one of "disk", "vg", got "floppy"/);
    expect(byField.get('ks_meta.pm_data.ks_spaces[4].volumes[0].size')).toMatch(/must be >= 0/);
    expect(byField.get('ks_meta.image_data["/"].container')).toMatch(/"gzip"/);
  });

  it('rejects a missing ks_meta, a non-object document and a bad checksum', () => {
    expect(errorsOf(() => parseProvisionData({ hostname: 'x' }))[0]!.field).toBe('ks_meta');
    expect(errorsOf(() => parseProvisionData([]))[0]!.message).toMatch(/expected an object/);
    const doc = sample();
    doc.ks_meta.image_data['/'].md5 = 'xyz';
    expect(errorsOf(() => parseProvisionData(doc))[0]!.field).toBe('ks_meta.image_data["/"].md5');
  });
});

describe('loadProvisionData', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-schema-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports unreadable files and invalid JSON without a stack', async () => {
    await expect(loadProvisionData(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"ks_meta": ');
    await expect(loadProvisionData(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/not valid JSON/) });
  });
});
