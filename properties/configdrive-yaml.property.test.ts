// Property: provisioning data with hostile strings in every field that reaches the
// configdrive's YAML (YAML 1.1 booleans, sexagesimals, dates, 0b/0o numbers, `~`,
// unicode line breaks, quotes, indicators, MIME boundary-looking lines, arbitrary
// unicode) is either REFUSED — a CONFIG_INVALID naming a field we changed — or
// ACCEPTED, and then cloud-init's own code (UserDataProcessor for the MIME
// user-data, util.load_yaml for cloud-config, meta-data and network-config) reads
// every value back equal to the input, strings as strings. Which values get refused
// is validation's business (and changes); that nothing accepted changes meaning is
// this file's. Each run renders a batch of cases and reads them all back in one
// Python process (cloud-init costs ~0.5 s to start).
//   replay: FORGE_PROP_SEED=<seed> [FORGE_PROP_PATH=<path>] [FORGE_CD_PROP_RUNS=<n>] npx vitest run properties/configdrive-yaml.property.test.ts
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { renderToDir } from '../agent/commands/configdrive.js';
import { buildConfigDrive, type ConfigDriveContents } from '../agent/configdrive/build.js';
import { splitQuotedList } from '../agent/configdrive/input.js';
import { buildMultipart, parseMultipart, type MimePart } from '../agent/configdrive/mime.js';
import { ForgeError, ForgeErrors } from '../agent/core/errors.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { formatPath, type PathSegment } from '../agent/schema/json-path.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { readWithCloudInit, type ReadBack, type ReadRequest } from '../agent/testing/cloud-init.js';
import { hostileLine, hostileString } from '../agent/testing/hostile-strings.js';

const seed = Number(process.env['FORGE_PROP_SEED'] ?? Date.now() % 2 ** 31);
const path = process.env['FORGE_PROP_PATH'];
const numRuns = Number(process.env['FORGE_CD_PROP_RUNS'] ?? 25);
const BATCH = 10;

const SAMPLE = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'fuel-nailgun', 'provision_sample.json'), 'utf8')) as Record<string, any>;
const work = mkdtempSync(join(tmpdir(), 'forge-cdprop-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = new ExecaRunner();

// ---- generated cases: the sample with some fields replaced --------------------------------

/** One change to the sample: `value` set at every path (a MAC goes to the NIC and to netcfg/choose_interface). */
interface Mutation {
  paths: PathSegment[][];
  value: unknown;
}

const set = (paths: PathSegment[][], value: unknown): Mutation => ({ paths, value });

/** Single-line fields get mostly single-line values (more of them pass validation), sometimes anything. */
const line = (): fc.Arbitrary<string> => fc.oneof({ weight: 3, arbitrary: hostileLine() }, { weight: 1, arbitrary: hostileString() });
const hostnameLike = fc.constantFrom('yes', 'no', 'on', 'off', 'y', 'n', 'true', 'null', 'nan', 'inf', '0b101', '0x1f', '017', '1e3', '12', '2024-01-02', 'yes.no', 'on.off.y', '0b1.0o7');
const userLike = fc.constantFrom('no', 'yes', 'on', 'off', 'y', 'n', 'true', 'false', 'null', 'nan', 'inf', '_', 'a-b', 'no_', 'y-');
const macLike = fc.constantFrom('52:54:00:12:34:56', '52:54:00:AB:CD:EF', '12:30:45:00:00:01', '00:00:00:00:00:00', '01:02:03:04:05:06');
const keys = fc.array(line(), { maxLength: 3 });

const KS_LINES = ['mco_password', 'mco_user', 'mco_host', 'mco_vhost', 'mco_pskey', 'mco_connector', 'mco_identity', 'puppet_master', 'timezone'] as const;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.oneof(hostnameLike, line()).map((v) => set([['hostname']], v)),
  fc.tuple(fc.constantFrom(0, 1), fc.oneof(userLike, line())).map(([i, v]) => set([['ks_meta', 'user_accounts', i, 'name']], v)),
  fc.tuple(fc.constantFrom(0, 1, 2), line()).map(([i, v]) => set([['ks_meta', 'user_accounts', i, 'password']], v)),
  fc.tuple(fc.constantFrom(0, 1, 2), keys).map(([i, v]) => set([['ks_meta', 'user_accounts', i, 'ssh_keys']], v)),
  keys.map((v) => set([['ks_meta', 'authorized_keys']], v)),
  fc.tuple(fc.constantFrom(...KS_LINES), line()).map(([k, v]) => set([['ks_meta', k]], v)),
  fc.tuple(fc.constantFrom(0, 1), fc.constantFrom('name', 'uri', 'suite'), line()).map(([i, k, v]) => set([['ks_meta', 'repo_setup', 'repos', i, k]], v)),
  fc.oneof(macLike, line()).map((v) => set([['interfaces', 'eth0', 'mac_address'], ['kernel_options', 'netcfg/choose_interface']], v)),
  fc.tuple(fc.constantFrom('name_servers', 'name_servers_search'), line()).map(([k, v]) => set([[k]], v)),
  fc.array(hostileString(), { minLength: 1, maxLength: 6 })
    .map((pieces) => set([['ks_meta', 'configdrive_files']], [{ path: '/etc/fuel-forge/hostile', content: pieces.join('\n') }])),
);

function setAt(doc: Record<string, any>, p: readonly PathSegment[], value: unknown): void {
  let o: any = doc;
  for (const seg of p.slice(0, -1)) o = o[seg];
  o[p[p.length - 1]!] = structuredClone(value);
}

interface Case {
  mutations: Mutation[];
  data: Record<string, any>;
  /** JSON paths we changed, as error fields name them. */
  changed: string[];
}

/** Names that would change meaning for another reason than YAML (a second root, a duplicate) are left out. */
function distinctNames(d: Record<string, any>): boolean {
  const users = (d.ks_meta.user_accounts as { name: unknown }[]).slice(0, 2).map((u) => u.name);
  const repos = (d.ks_meta.repo_setup.repos as { name: unknown }[]).map((r) => r.name);
  return users.every((n) => n !== 'root' && n !== '') && new Set(users).size === users.length && new Set(repos).size === repos.length;
}

const caseArb: fc.Arbitrary<Case> = fc
  .array(mutationArb, { minLength: 1, maxLength: 3 })
  .map((mutations) => {
    const data = structuredClone(SAMPLE);
    for (const m of mutations) for (const p of m.paths) setAt(data, p, m.value);
    return { mutations, data, changed: mutations.flatMap((m) => m.paths.map((p) => formatPath(p))) };
  })
  .filter((c) => distinctNames(c.data));

// ---- refused: only for a field we changed --------------------------------------------------

const related = (field: string, changed: string): boolean =>
  [field, changed].some((a) => {
    const b = a === field ? changed : field;
    return a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`);
  });

/** The run's validation (schema, then the configdrive in memory): contents, or the refusal's errors. */
function build(d: unknown): { contents: ConfigDriveContents } | { refused: ForgeError[] } {
  try {
    return { contents: buildConfigDrive(parseProvisionData(d)) };
  } catch (e) {
    if (e instanceof ForgeErrors) return { refused: [...e.errors] };
    if (e instanceof ForgeError) return { refused: [e] };
    throw e;
  }
}

// ---- accepted: cloud-init reads back what the input said -----------------------------------

interface Account { name: string; password?: string; homedir?: string; ssh_keys?: string[]; sudo?: string[] }

/**
 * What the node must get, from the raw input alone. The only normalisations are
 * input.ts's documented ones: the MAC lower-cased, master keys trimmed, empty keys
 * dropped and duplicates listed once, Nailgun's quoted name-server lists split.
 */
function expected(d: Record<string, any>) {
  const ks = d.ks_meta;
  const fqdn = d.hostname as string;
  const [short = fqdn, ...rest] = fqdn.split('.');
  const accounts = ks.user_accounts as Account[];
  const root = accounts.find((u) => u.name === 'root');
  const others = accounts.filter((u) => u.name !== 'root');
  const masterKeys = [...new Set((ks.authorized_keys as string[]).map((k) => k.trim()).filter(Boolean))];
  const search = splitQuotedList(d.name_servers_search);
  const repos = ks.repo_setup.repos as { name: string; uri: string; suite: string; section?: string; type?: string }[];
  const identity = String(ks.mco_identity);
  return {
    fqdn, short, masterKeys, search: search.length ? search : rest.length ? [rest.join('.')] : [],
    publicKeys: [...new Set([...masterKeys, ...(root?.ssh_keys ?? []).filter(Boolean)])],
    users: others.map((u) => ({
      name: u.name, ...(u.homedir ? { homedir: u.homedir } : {}), shell: '/bin/bash', lock_passwd: u.password === undefined,
      ...(u.password === undefined ? {} : { plain_text_passwd: u.password }),
      ...((u.ssh_keys ?? []).filter(Boolean).length ? { ssh_authorized_keys: (u.ssh_keys ?? []).filter(Boolean) } : {}),
    })),
    sudoers: others.filter((u) => u.sudo?.length).map((u) => ({ path: `/etc/sudoers.d/90-fuel-${u.name}`, content: u.sudo!.map((r) => `${u.name} ${r}`).join('\n') + '\n' })),
    rootPassword: root?.password,
    sources: Object.fromEntries(repos.map((r) => [`fuel-${r.name}.list`, { source: [r.type ?? 'deb', r.uri, r.suite, r.section ?? ''].filter(Boolean).join(' ') }])),
    repos,
    mac: (d.interfaces.eth0.mac_address as string).toLowerCase(),
    nameServers: splitQuotedList(d.name_servers),
    mco: {
      identity: identity && identity !== '-1' ? identity : String(d.uid), connector: ks.mco_connector as string,
      password: ks.mco_password as string, user: ks.mco_user as string, host: ks.mco_host as string, vhost: ks.mco_vhost as string, pskey: ks.mco_pskey as string,
    },
    puppetMaster: ks.puppet_master as string,
    timezone: ks.timezone as string,
    files: (ks.configdrive_files ?? []) as { path: string; content: string }[],
  };
}

interface WriteFile { path: unknown; content: unknown; owner: unknown; permissions: unknown }

function fileLines(files: WriteFile[], p: string): string[] {
  const f = files.find((x) => x.path === p);
  expect(f, `write_files ${p}`).toBeDefined();
  return String(f!.content).split('\n');
}

function checkAccepted(c: Case, contents: ConfigDriveContents, back: ReadBack): void {
  const x = expected(c.data);
  // MIME: cloud-init splits the user-data into exactly our parts.
  expect(back.parts!.map((p) => [p.contentType, p.filename, p.payload])).toEqual(contents.parts.map((p) => [p.contentType, p.filename, p.body]));
  const loaded = back.parts![0]!.yaml!;
  expect(loaded.error).toBeUndefined();
  const cc = loaded.value as Record<string, any>;
  expect([cc.hostname, cc.fqdn, cc.timezone]).toEqual([x.short, x.fqdn, x.timezone]);
  expect(cc.ssh_authorized_keys).toEqual(x.publicKeys);
  expect(cc.users).toEqual(x.users.length ? x.users : {});
  expect(cc.chpasswd).toEqual(x.rootPassword === undefined ? undefined : { expire: false, users: [{ name: 'root', password: x.rootPassword, type: 'text' }] });
  expect(cc.apt.sources).toEqual(x.sources);
  const files = cc.write_files as WriteFile[];
  for (const f of files) {
    expect([typeof f.path, typeof f.content, f.owner, typeof f.permissions]).toEqual(['string', 'string', 'root:root', 'string']);
    expect(f.permissions).toMatch(/^0[0-7]{3}$/);
  }
  expect(fileLines(files, '/etc/hosts')).toContain(`10.20.0.3\t${x.fqdn} ${x.short}`);
  const mco = fileLines(files, '/etc/mcollective/server.cfg');
  const pool = `plugin.${x.mco.connector}.pool.1`;
  for (const l of [`identity = ${x.mco.identity}`, `plugin.psk = ${x.mco.pskey}`, `connector = ${x.mco.connector}`, `plugin.${x.mco.connector}.vhost = ${x.mco.vhost}`,
    `${pool}.host = ${x.mco.host}`, `${pool}.user = ${x.mco.user}`, `${pool}.password = ${x.mco.password}`]) expect(mco).toContain(l);
  expect(fileLines(files, '/etc/puppet/puppet.conf')).toEqual(expect.arrayContaining([`server = ${x.puppetMaster}`, `certname = ${x.fqdn}`]));
  if (x.nameServers.length) {
    const resolv = fileLines(files, '/etc/resolv.conf');
    expect(resolv).toEqual(expect.arrayContaining([`search ${x.search.join(' ')}`, ...x.nameServers.map((n) => `nameserver ${n}`)]));
  }
  for (const r of x.repos) {
    expect(fileLines(files, `/etc/apt/preferences.d/fuel-${r.name}.pref`)).toEqual(expect.arrayContaining([`# written by fuel-forge from ks_meta.repo_setup (${r.name})`, `Pin: release a=${r.suite}`]));
  }
  for (const s of x.sudoers) expect(files.find((f) => f.path === s.path)?.content).toBe(s.content);
  expect(JSON.parse(String(files.find((f) => f.path === '/etc/fuel-forge/report.json')?.content)).hostname).toBe(x.fqdn);

  // NoCloud meta-data and network-config.
  expect(back.yaml.meta).toEqual({ value: { 'instance-id': contents.input.uuid, 'local-hostname': x.fqdn, 'public-keys': x.masterKeys } });
  expect(back.yaml.net).toEqual({
    value: {
      version: 1,
      config: [
        { type: 'physical', name: 'eth0', mac_address: x.mac, subnets: [{ type: 'dhcp' }] },
        ...(x.nameServers.length ? [{ type: 'nameserver', address: x.nameServers, search: x.search }] : []),
      ],
    },
  });
  // ConfigDrive: JSON beside it, extra files byte for byte.
  const net = JSON.parse(contents.files.get('openstack/latest/network_data.json')!);
  expect(net.links[0].ethernet_mac_address).toBe(x.mac);
  expect(x.files.map((_f, i) => back.text[`content${i}`])).toEqual(x.files.map((f) => f.content));
  expect(JSON.parse(contents.files.get('openstack/latest/meta_data.json')!).files.map((f: { path: string }) => f.path)).toEqual(x.files.map((f) => f.path));
}

const describeCase = (c: Case): string => JSON.stringify(c.mutations.map((m) => [m.paths.map((p) => formatPath(p)).join('+'), m.value]));

const tally = { refused: 0, accepted: 0 };
let batchNo = 0;

async function checkBatch(cases: readonly Case[]): Promise<void> {
  const dir = join(work, `batch-${batchNo++}`);
  const accepted: { c: Case; contents: ConfigDriveContents; request: ReadRequest }[] = [];
  for (const [i, c] of cases.entries()) {
    const r = build(c.data);
    if ('refused' in r) {
      tally.refused++;
      for (const e of r.refused) {
        expect({ case: describeCase(c), code: e.code, fieldChanged: c.changed.some((ch) => related(e.field ?? '', ch)), message: e.message })
          .toMatchObject({ code: 'CONFIG_INVALID', fieldChanged: true });
      }
      continue;
    }
    tally.accepted++;
    const out = join(dir, `case-${i}`);
    await renderToDir(out, r.contents);
    const text = Object.fromEntries(r.contents.input.files.map((_f, n) => [`content${n}`, join(out, 'openstack', 'content', String(n).padStart(4, '0'))]));
    accepted.push({ c, contents: r.contents, request: { userData: join(out, 'user-data'), yaml: { meta: join(out, 'meta-data'), net: join(out, 'network-config') }, text } });
  }
  if (!accepted.length) return;
  const back = await readWithCloudInit(runner, accepted.map((a) => a.request), work);
  accepted.forEach((a, i) => {
    try {
      checkAccepted(a.c, a.contents, back[i]!);
    } catch (e) {
      throw new Error(`accepted case ${describeCase(a.c)} reads back different:\n${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  });
  rmSync(dir, { recursive: true, force: true });
}

describe('configdrive YAML read by cloud-init (property)', () => {
  it(`hostile values are refused by field or read back exactly (seed ${seed}, ${numRuns} runs of ${BATCH})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(caseArb, { minLength: BATCH, maxLength: BATCH }), checkBatch),
      // No shrinking: every step would start Python again; the message names the failing case.
      { seed, numRuns, endOnFailure: true, ...(path ? { path } : {}) },
    );
    process.stdout.write(`configdrive property: ${tally.accepted} cases accepted and read back, ${tally.refused} refused by field\n`);
    // Not vacuous: validation refuses some hostile values, but plenty of them are legitimate.
    expect(tally.accepted).toBeGreaterThan((tally.accepted + tally.refused) / 10);
  }, Math.max(120_000, numRuns * 5_000));

  it('cloud-init splits our MIME user-data into exactly our parts, whatever the bodies hold', async () => {
    const body = fc.array(hostileString(), { maxLength: 6 }).map((p) => p.join('\n'));
    const partArb = fc.record({
      contentType: fc.constantFrom('text/cloud-config', 'text/cloud-boothook', 'text/x-shellscript'),
      filename: fc.constantFrom('a.yaml', 'b.sh', 'part-1', 'x.y-z_1'),
      body: fc.oneof(body, body.map((b) => `${b}\r\n`), fc.string({ unit: 'binary', maxLength: 40 }), fc.constant('x'.repeat(1200))),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(partArb, { minLength: 1, maxLength: 3 }), { minLength: 20, maxLength: 20 }), async (docs) => {
        const dir = join(work, `mime-${batchNo++}`);
        mkdirSync(dir, { recursive: true });
        const requests = docs.map((parts, i) => {
          const f = join(dir, `ud-${i}`);
          const doc = buildMultipart(parts);
          expect(parseMultipart(doc)).toEqual(parts);
          writeFileSync(f, doc);
          return { userData: f };
        });
        const back = await readWithCloudInit(runner, requests, work);
        docs.forEach((parts: MimePart[], i) => {
          expect(back[i]!.parts!.map((p) => [p.contentType, p.filename, p.payload]), JSON.stringify(parts)).toEqual(parts.map((p) => [p.contentType, p.filename, p.body]));
        });
      }),
      { seed, numRuns: 8, endOnFailure: true },
    );
  }, 60_000);
});
