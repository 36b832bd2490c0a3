// toCloudYaml against its reader: every document is loaded back by cloud-init's
// own loader (cloudinit.util.load_yaml → PyYAML 1.1) and must equal what we wrote,
// value for value and type for type.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ForgeError } from '../core/errors.js';
import { ExecaRunner } from '../core/runner.js';
import { readWithCloudInit } from '../testing/cloud-init.js';
import { hostileString, YAML11_TRAPS } from '../testing/hostile-strings.js';
import { isPlainSafe, quoteDouble, toCloudYaml } from './yaml11.js';

const work = mkdtempSync(join(tmpdir(), 'forge-yaml11-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = new ExecaRunner();
let n = 0;

/** Each document through toCloudYaml, a file, and cloud-init's loader; one Python run for all. */
async function roundTrip(docs: readonly Record<string, unknown>[], render = toCloudYaml): Promise<{ value: unknown; error?: string }[]> {
  const yaml: Record<string, string> = {};
  docs.forEach((d, i) => {
    const f = join(work, `doc-${n++}.yaml`);
    writeFileSync(f, render(d));
    yaml[`d${i}`] = f;
  });
  const [back] = await readWithCloudInit(runner, [{ yaml }], work);
  return docs.map((_d, i) => back!.yaml[`d${i}`]!);
}

/** Every trap as a value, a key, a list item, a nested value and a multi-line text. */
function trapDoc(): Record<string, unknown> {
  const multi = YAML11_TRAPS.map((t) => `${t}\n${t} \n\n  ${t}\n`);
  return {
    values: Object.fromEntries(YAML11_TRAPS.map((t, i) => [`v${i}`, t])),
    keys: Object.fromEntries(YAML11_TRAPS.map((t, i) => [t, i])),
    list: [...YAML11_TRAPS],
    files: YAML11_TRAPS.map((t, i) => ({ path: `/etc/${i}`, content: multi[i], owner: t, nested: [[t], { [t]: t }] })),
    numbers: [0, 1, -7, 420, 1001, 1.5, -0.25, 1e21, 1e-7, 2 ** 53, 123456789.125],
    other: { t: true, f: false, nothing: null, emptyMap: {}, emptyList: [] },
    long: { ['k'.repeat(2000)]: 'v'.repeat(5000), text: `${'x'.repeat(3000)}\n`.repeat(3) },
    longInList: [{ ['k'.repeat(600)]: ['v', 'a\nb'], x: 'y' }, [['deep'], {}]],
  };
}

describe('toCloudYaml', () => {
  it('is read back exactly by cloud-init for every YAML 1.1 trap, as value, key, item and text', async () => {
    const doc = trapDoc();
    const [r] = await roundTrip([doc]);
    expect(r!.error).toBeUndefined();
    expect(r!.value).toEqual(doc);
  });

  it('emits pure ASCII, plain only for plainly safe strings', () => {
    const text = toCloudYaml(trapDoc());
    expect(text).toMatch(/^[\t\n\x20-\x7e]*$/);
    expect(toCloudYaml({ hostname: 'node-1', mac: '52:54:00:12:34:56', user: 'no', pw: '12:30:45', ok: true })).toBe(
      'hostname: node-1\nmac: "52:54:00:12:34:56"\nuser: "no"\npw: "12:30:45"\nok: true\n',
    );
    for (const s of ['/etc/hosts', 'node-1.domain.tld', 'fuel_admin', 'c++']) expect(isPlainSafe(s)).toBe(true);
    for (const s of ['yes', 'yEs', 'Y', 'n', 'null', '~', '', '0b1', '1:2', '<<', '=', '.inf', '2024-01-02', '-x', 'a b', 'a:b']) {
      expect(isPlainSafe(s), s).toBe(false);
    }
  });

  it('writes unicode line breaks and controls as escapes, never raw', () => {
    expect(quoteDouble('a\u0085b\u2028c\u2029d')).toBe('"a\\Nb\\Lc\\Pd"');
    expect(quoteDouble('\t\r\n\0\x7f\x9b"\\é😀')).toBe('"\\t\\r\\n\\0\\x7F\\x9B\\"\\\\\\xE9\\U0001F600"');
  });

  it('keeps multi-line ASCII text readable as a literal block with exact line breaks', () => {
    expect(toCloudYaml({ f: [{ content: '  indented\nx\n\n' }] })).toBe('f:\n  - content: |2+\n        indented\n      x\n\n');
    expect(toCloudYaml({ c: 'a\nb' })).toBe('c: |2-\n  a\n  b\n');
  });

  it('refuses what it cannot represent instead of changing it', () => {
    for (const bad of [{ s: 'x\ud800' }, { n: Number.NaN }, { d: new Date(0) }, { l: [undefined] }, { m: new Map() }]) {
      expect(() => toCloudYaml(bad)).toThrow(ForgeError);
    }
    try {
      toCloudYaml({ users: [{ name: 'ok' }, { name: '\udc00' }] });
      expect.unreachable();
    } catch (e) {
      expect((e as ForgeError).code).toBe('CONFIGDRIVE_FAILED');
      expect((e as ForgeError).details).toEqual({ yamlPath: 'users[1].name' });
    }
  });

  it("shows why: the yaml package's YAML 1.2 output is misread by cloud-init", async () => {
    const doc = { mac: '52:54:00:12:34:56', hostname: 'yes', password: '12:30:45', user: 'no', date: '2024-01-02', bin: '0b101' };
    const [old] = await roundTrip([doc], (d) => stringify(d));
    expect(old!.value).toMatchObject({ mac: 41135085296, hostname: true, password: 45045, user: false, bin: 5 });
    const [fixed] = await roundTrip([doc]);
    expect(fixed!.value).toEqual(doc);
  });

  it('round-trips generated documents of hostile strings (property, batched through one loader run)', async () => {
    const leaf = fc.oneof(
      { weight: 6, arbitrary: hostileString() },
      { weight: 1, arbitrary: fc.oneof(fc.boolean(), fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })) },
    );
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('list'), tie('map')),
      list: fc.array(tie('tree'), { maxLength: 4 }),
      map: fc.dictionary(hostileString(), tie('tree'), { maxKeys: 4 }),
    }));
    const docs = fc.array(fc.dictionary(hostileString(), tree, { minKeys: 1, maxKeys: 6 }), { minLength: 20, maxLength: 20 });
    await fc.assert(
      fc.asyncProperty(docs, async (ds) => {
        // -0 is 0 to any YAML reader; compare as JSON does.
        const want = ds.map((d) => JSON.parse(JSON.stringify(d)) as unknown);
        const got = await roundTrip(ds);
        // Report the first document that differs, with its YAML: shrinking through Python is too slow.
        const bad = want.findIndex((w, i) => !isDeepStrictEqual(got[i]!.value, w));
        if (bad >= 0) expect(got[bad], toCloudYaml(ds[bad])).toEqual({ value: want[bad] });
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });
});
