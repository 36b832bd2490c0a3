import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { ExecaRunner } from '../core/runner.js';
import { parseProvisionData } from '../schema/load.js';
import { readWithCloudInit, type ReadBack } from '../testing/cloud-init.js';
import { buildConfigDrive as buildFromData, type BuildOptions, type ConfigDriveContents } from './build.js';
import { configDriveInputFrom, netmaskToPrefix, splitQuotedList } from './input.js';
import { buildMultipart, parseMultipart } from './mime.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'fuel-nailgun');
const load = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const sample = load('provision_sample.json');

/** The data parsed as every command parses it, then built; a refusal surfaces as its first per-field error. */
function parsed(data: unknown): ReturnType<typeof parseProvisionData> {
  try {
    return parseProvisionData(data);
  } catch (e) {
    throw e instanceof ForgeErrors && e.errors[0] ? e.errors[0] : e;
  }
}
const buildConfigDrive = (data: unknown, o?: BuildOptions): ConfigDriveContents => buildFromData(parsed(data), o);
const work = mkdtempSync(join(tmpdir(), 'forge-cd-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = new ExecaRunner();

interface WriteFile { path: string; content: string; permissions: string }
// A YAML 1.1 reader for quick looks; what cloud-init itself reads is checked below with its own loader.
const cloudConfigOf = (c: ReturnType<typeof buildConfigDrive>): Record<string, any> => parseYaml(c.cloudConfig, { version: '1.1' });
const fileIn = (cc: Record<string, any>, path: string): string | undefined =>
  (cc.write_files as WriteFile[]).find((f) => f.path === path)?.content;

async function schemaCheck(cloudConfig: string, name: string): Promise<{ exitCode: number; out: string }> {
  const f = join(work, name);
  writeFileSync(f, cloudConfig);
  const r = await runner.run(['cloud-init', 'schema', '--config-file', f], { okExitCodes: [0, 1] });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

describe('meta_data.json', () => {
  const c = buildConfigDrive(sample);
  const meta = JSON.parse(c.files.get('openstack/latest/meta_data.json') ?? '{}');

  it('names the node and carries the master keys', () => {
    expect(meta.hostname).toBe('node-1.domain.tld');
    expect(meta.name).toBe('node-1');
    expect(Object.values(meta.public_keys)).toEqual(['fake_authorized_key1', 'fake_authorized_key2']);
    expect(meta.launch_index).toBe(0);
    expect(meta.files).toEqual([]);
    expect(meta.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps the instance id stable for the same node and distinct for another', () => {
    expect(JSON.parse(buildConfigDrive(sample).files.get('openstack/latest/meta_data.json')!).uuid).toBe(meta.uuid);
    const other = buildConfigDrive({ ...sample, uid: '2', hostname: 'node-2.domain.tld' });
    expect(other.input.uuid).not.toBe(meta.uuid);
    expect(buildConfigDrive({ ...sample, uuid: 'given-uuid' }).input.uuid).toBe('given-uuid');
  });

  it('lists extra files with their content paths', () => {
    const data = { ...sample, ks_meta: { ...sample.ks_meta, configdrive_files: [{ path: '/etc/motd', content: 'hi\n' }] } };
    const cd = buildConfigDrive(data);
    const m = JSON.parse(cd.files.get('openstack/latest/meta_data.json')!);
    expect(m.files).toEqual([{ path: '/etc/motd', content_path: '/content/0000' }]);
    expect(cd.files.get('openstack/content/0000')).toBe('hi\n');
  });

  it('writes the NoCloud seed beside it with the same identity', () => {
    const nc = parseYaml(c.files.get('meta-data')!);
    expect(nc['instance-id']).toBe(meta.uuid);
    expect(nc['local-hostname']).toBe('node-1.domain.tld');
    expect(c.files.get('user-data')).toBe(c.files.get('openstack/latest/user_data'));
  });
});

describe('user_data', () => {
  const c = buildConfigDrive(sample);
  const ud = c.files.get('openstack/latest/user_data')!;

  it('is multipart/mixed with cloud-config, boothook and shell script parts', () => {
    const parts = parseMultipart(ud);
    expect(parts.map((p) => p.contentType)).toEqual(['text/cloud-config', 'text/cloud-boothook', 'text/x-shellscript']);
    expect(parts[0]!.body).toBe(c.cloudConfig);
    expect(parts[1]!.body.startsWith('#cloud-boothook\n')).toBe(true);
    expect(parts[2]!.body.startsWith('#!/bin/sh\n')).toBe(true);
    expect(parts[1]!.body).toContain('ATTR{address}=="08:00:27:79:da:80", NAME="eth0"');
  });

  it("is split the same way by cloud-init's own user-data processor", async () => {
    const f = join(work, 'user_data');
    writeFileSync(f, ud);
    const [back] = await readWithCloudInit(runner, [{ userData: f }], work);
    expect(back!.parts!.map((p) => [p.contentType, p.filename])).toEqual([
      ['text/cloud-config', 'cloud-config.yaml'],
      ['text/cloud-boothook', 'boothook.sh'],
      ['text/x-shellscript', 'firstboot.sh'],
    ]);
    expect(back!.parts![0]!.payload).toBe(c.cloudConfig);
    expect(back!.parts!.map((p) => p.payload)).toEqual(c.parts.map((p) => p.body));
  });

  it("passes real cloud-init's schema check", async () => {
    const r = await schemaCheck(c.cloudConfig, 'sample.yaml');
    expect(r.out).toContain('Valid cloud-config');
    expect(r.exitCode).toBe(0);
  });

  it('with root as the only account: no users, no distro default user, and still a valid schema', async () => {
    const data = structuredClone(sample);
    data.ks_meta.user_accounts = data.ks_meta.user_accounts.filter((u: { name: string }) => u.name === 'root');
    const cc = buildConfigDrive(data).cloudConfig;
    expect(cloudConfigOf({ cloudConfig: cc } as ReturnType<typeof buildConfigDrive>).users).toEqual({});
    const r = await schemaCheck(cc, 'root-only.yaml');
    expect(r.out).toContain('Valid cloud-config');
    expect(r.exitCode).toBe(0);
  });

  it('sets host name, fqdn, timezone and root keys', () => {
    const cc = cloudConfigOf(c);
    expect(cc.hostname).toBe('node-1');
    expect(cc.fqdn).toBe('node-1.domain.tld');
    expect(cc.timezone).toBe('America/Los_Angeles');
    expect(cc.disable_root).toBe(false);
    expect(cc.ssh_authorized_keys).toEqual(['fake_authorized_key1', 'fake_authorized_key2']);
    expect(cc.chpasswd.users).toEqual([{ name: 'root', password: 'r00tme', type: 'text' }]);
    expect(fileIn(cc, '/etc/hosts')).toMatch(/^10\.20\.0\.3\tnode-1\.domain\.tld node-1$/m);
    expect(fileIn(cc, '/etc/sudoers.d/90-fuel-fuel')).toBe('fuel ALL=(ALL) NOPASSWD: ALL\n');
  });

  it('configures name servers and the search domain (unquoting Nailgun strings)', () => {
    const resolv = fileIn(cloudConfigOf(c), '/etc/resolv.conf')!;
    expect(resolv).toContain('nameserver 10.20.0.2\n');
    expect(resolv).toContain('search domain.tld\n');
    const net = JSON.parse(c.files.get('openstack/latest/network_data.json')!);
    expect(net.services).toEqual([{ type: 'dns', address: '10.20.0.2' }]);
  });

  it('adds apt repositories and their pinning from repo_setup', () => {
    const cc = cloudConfigOf(c);
    expect(cc.apt.sources['fuel-repo1.list'].source).toBe('deb uri1 suite section');
    expect(cc.apt.sources['fuel-repo2.list'].source).toBe('deb uri2 suite section');
    expect(fileIn(cc, '/etc/apt/preferences.d/fuel-repo1.pref')).toContain('Pin-Priority: 1001');
  });

  it('writes puppet and mcollective configuration from ks_meta', () => {
    const cc = cloudConfigOf(c);
    const puppet = fileIn(cc, '/etc/puppet/puppet.conf')!;
    expect(puppet).toMatch(/^server = fuel\.domain\.tld$/m);
    expect(fileIn(cc, '/etc/default/puppet')).toMatch(/^START=no$/m);
    const mco = fileIn(cc, '/etc/mcollective/server.cfg')!;
    for (const line of [
      'connector = rabbitmq',
      'plugin.rabbitmq.pool.1.host = 10.20.0.2',
      'plugin.rabbitmq.pool.1.user = mcollective',
      'plugin.rabbitmq.pool.1.password = marionette',
      'plugin.rabbitmq.vhost = mcollective',
      'plugin.psk = unset',
      'identity = 1',
    ]) expect(mco.split('\n')).toContain(line);
    expect(fileIn(cc, '/etc/default/mcollective')).toMatch(/^RUN=yes$/m);
    expect(fileIn(cc, '/etc/fuel-forge/firstboot.env')).toBe(
      '# read by the fuel-forge first-boot script (values are only yes/no)\nPUPPET_ENABLE=no\nMCO_ENABLE=yes\n',
    );
  });

  it('follows puppet_enable and drops configs whose auto-setup is off', () => {
    const on = buildConfigDrive({ ...sample, ks_meta: { ...sample.ks_meta, puppet_enable: 1, mco_auto_setup: 0 } });
    const cc = cloudConfigOf(on);
    expect(fileIn(cc, '/etc/default/puppet')).toMatch(/^START=yes$/m);
    expect(fileIn(cc, '/etc/mcollective/server.cfg')).toBeUndefined();
  });

  it('reports provisioned to a URL derived from the master, or the one given', () => {
    const cfg = JSON.parse(fileIn(cloudConfigOf(c), '/etc/fuel-forge/report.json')!);
    expect(cfg).toEqual({ uid: '1', hostname: 'node-1.domain.tld', callback_url: 'http://10.20.0.2:8000/api/v1/nodes/1/provisioned' });
    const viaData = buildConfigDrive({ ...sample, ks_meta: { ...sample.ks_meta, callback_url: 'http://lab:9000/cb/{uid}' } });
    expect(viaData.input.callbackUrl).toBe('http://lab:9000/cb/1');
    const viaOpt = buildConfigDrive(sample, { callbackUrl: 'http://x:1/n/{uid}/done' });
    expect(viaOpt.input.callbackUrl).toBe('http://x:1/n/1/done');
    const script = fileIn(cloudConfigOf(c), '/usr/local/sbin/fuel-forge-report')!;
    expect(script).toContain('"cloud-init", "status", "--wait", "--format", "json"');
  });

  it('uses DHCP for the admin NIC unless the data marks it static', () => {
    const dhcp = JSON.parse(c.files.get('openstack/latest/network_data.json')!);
    expect(dhcp.links).toEqual([{ id: 'eth0', type: 'phy', ethernet_mac_address: '08:00:27:79:da:80', mtu: null }]);
    expect(dhcp.networks[0].type).toBe('ipv4_dhcp');
    const data = structuredClone(sample);
    data.interfaces.eth0.static = '1';
    const st = buildConfigDrive(data);
    const net = JSON.parse(st.files.get('openstack/latest/network_data.json')!);
    expect(net.networks[0]).toMatchObject({
      type: 'ipv4', ip_address: '10.20.0.3', netmask: '255.255.255.0',
      routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.20.0.1' }],
    });
    const nc = parseYaml(st.files.get('network-config')!);
    expect(nc.config[0]).toEqual({
      type: 'physical', name: 'eth0', mac_address: '08:00:27:79:da:80',
      subnets: [{ type: 'static', address: '10.20.0.3/24', gateway: '10.20.0.1' }],
    });
  });

  it('builds from the other Nailgun sample too, and its cloud-config is valid', async () => {
    const other = buildConfigDrive(load('simple_nailgun_driver.json'));
    expect(other.input.fqdn).toBe('node-1.domain.tld');
    expect((await schemaCheck(other.cloudConfig, 'simple.yaml')).exitCode).toBe(0);
  });
});

describe('input problems', () => {
  const err = (f: () => unknown): ForgeError => {
    try {
      f();
    } catch (e) {
      return e as ForgeError;
    }
    throw new Error('expected a ForgeError');
  };

  it('names the missing host name', () => {
    const { hostname: _h, ...rest } = sample;
    const e = err(() => buildConfigDrive(rest));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.field).toBe('hostname');
  });

  it('refuses values that would inject lines into config files', () => {
    const e = err(() => buildConfigDrive({ ...sample, ks_meta: { ...sample.ks_meta, mco_password: 'x\nconnector = evil' } }));
    expect(e.field).toBe('ks_meta.mco_password');
  });

  it('needs a master to derive the call-back URL', () => {
    const { master_ip: _m, ...ks } = sample.ks_meta;
    expect(err(() => configDriveInputFrom(parsed({ ...sample, ks_meta: ks }))).field).toBe('ks_meta.master_ip');
  });

  it('parses Nailgun lists and netmasks', () => {
    expect(splitQuotedList('"10.20.0.2,10.20.0.3"')).toEqual(['10.20.0.2', '10.20.0.3']);
    expect(netmaskToPrefix('255.255.240.0', 'x')).toBe(20);
    expect(err(() => netmaskToPrefix('255.0.255.0', 'interfaces.eth0.netmask')).field).toBe('interfaces.eth0.netmask');
  });
});

describe('MIME', () => {
  it('round-trips non-ASCII parts through base64', () => {
    const doc = buildMultipart([{ contentType: 'text/x-shellscript', filename: 'a.sh', body: '#!/bin/sh\necho héllo\n' }]);
    expect(doc).toContain('Content-Transfer-Encoding: base64');
    expect(parseMultipart(doc)[0]!.body).toBe('#!/bin/sh\necho héllo\n');
  });

  it('rejects a document without its closing boundary', () => {
    const doc = buildMultipart([{ contentType: 'text/cloud-config', filename: 'c', body: '#cloud-config\n' }]);
    const cut = doc.replace(/--\n$/, '\n');
    expect(() => parseMultipart(cut)).toThrow(/closing boundary/);
  });
});

describe("read back by cloud-init's own loader (PyYAML 1.1): the issue's examples", () => {
  const mutate = (f: (d: Record<string, any>) => void): Record<string, any> => {
    const d = structuredClone(sample);
    f(d);
    return d;
  };
  const setMac = (mac: string) => (d: Record<string, any>) => {
    d.interfaces.eth0.mac_address = mac;
    d.kernel_options['netcfg/choose_interface'] = mac;
  };
  const cases: Record<string, Record<string, any>> = {
    sample,
    mac: mutate(setMac('52:54:00:12:34:56')),
    macUpper: mutate(setMac('52:54:00:AB:CD:EF')),
    hostnameYes: mutate((d) => (d.hostname = 'yes')),
    password: mutate((d) => {
      d.ks_meta.user_accounts[2].password = '12:30:45';
      d.ks_meta.user_accounts[0].password = '2024-01-02';
    }),
    userNo: mutate((d) => (d.ks_meta.user_accounts[1].name = 'no')),
    nel: mutate((d) => (d.ks_meta.user_accounts[2].password = 'pass\u0085word')),
    lineSep: mutate((d) => (d.ks_meta.mco_password = 'mar\u2028ionette')),
    boundary: mutate((d) => (d.ks_meta.user_accounts[0].password = '--===============fuel-forge-0123456789abcdef01234567==')),
  };
  const built: Record<string, ConfigDriveContents | ForgeError> = {};
  const back: Record<string, ReadBack> = {};

  beforeAll(async () => {
    const names: string[] = [];
    const requests = [];
    for (const [name, data] of Object.entries(cases)) {
      try {
        built[name] = buildConfigDrive(data);
      } catch (e) {
        if (!(e instanceof ForgeError)) throw e;
        built[name] = e;
        continue;
      }
      const files = (built[name] as ConfigDriveContents).files;
      const at = (f: string): string => {
        const p = join(work, `${name}-${f}`);
        writeFileSync(p, files.get(f)!);
        return p;
      };
      names.push(name);
      requests.push({ userData: at('user-data'), yaml: { meta: at('meta-data'), net: at('network-config') } });
    }
    const r = await readWithCloudInit(runner, requests, work);
    names.forEach((n, i) => (back[n] = r[i]!));
  });

  const cloudConfig = (name: string): Record<string, any> => {
    const y = back[name]!.parts![0]!.yaml!;
    expect(y.error).toBeUndefined();
    return y.value as Record<string, any>;
  };
  const net = (name: string) => (back[name]!.yaml.net!.value as { config: { mac_address?: unknown }[] }).config[0]!;
  /** Accepted and read back as `check` says, or refused naming `field`: never silently changed. */
  const keptOrRefused = (name: string, field: string, check: () => void): void => {
    const b = built[name];
    if (b instanceof ForgeError) expect([b.code, b.field]).toEqual(['CONFIG_INVALID', field]);
    else check();
  };

  it('reads the MAC in network-config as a string, lower-case', () => {
    expect(net('sample').mac_address).toBe('08:00:27:79:da:80');
    expect(net('mac').mac_address).toBe('52:54:00:12:34:56');
    expect(net('macUpper').mac_address).toBe('52:54:00:ab:cd:ef');
  });

  it('reads hostname yes as the string yes everywhere', () => {
    keptOrRefused('hostnameYes', 'hostname', () => {
      expect([cloudConfig('hostnameYes').hostname, cloudConfig('hostnameYes').fqdn]).toEqual(['yes', 'yes']);
      expect((back.hostnameYes!.yaml.meta!.value as Record<string, unknown>)['local-hostname']).toBe('yes');
    });
  });

  it('reads sexagesimal- and date-looking passwords as strings', () => {
    const cc = cloudConfig('password');
    expect(cc.chpasswd.users).toEqual([{ name: 'root', password: '12:30:45', type: 'text' }]);
    expect(cc.users[0].plain_text_passwd).toBe('2024-01-02');
  });

  it('reads a user named no as the string no, matching its sudoers file', () => {
    const cc = cloudConfig('userNo');
    expect(cc.users.map((u: { name: unknown }) => u.name)).toEqual(['fueladmin', 'no']);
    expect(fileIn(cc, '/etc/sudoers.d/90-fuel-no')).toBe('no ALL=(ALL) NOPASSWD: ALL\n');
  });

  it('keeps U+0085 and U+2028 in passwords, or refuses them by field, never folds or drops them', () => {
    keptOrRefused('nel', 'ks_meta.user_accounts[2].password', () => {
      expect(cloudConfig('nel').chpasswd.users[0].password).toBe('pass\u0085word');
    });
    keptOrRefused('lineSep', 'ks_meta.mco_password', () => {
      expect(fileIn(cloudConfig('lineSep'), '/etc/mcollective/server.cfg')!.split('\n')).toContain('plugin.rabbitmq.pool.1.password = mar\u2028ionette');
    });
  });

  it('keeps a boundary-looking password inside its MIME part', () => {
    expect(back.boundary!.parts!.length).toBe(3);
    expect(cloudConfig('boundary').users[0].plain_text_passwd).toBe('--===============fuel-forge-0123456789abcdef01234567==');
  });

  it('refuses a lone UTF-16 surrogate by its JSON path instead of writing U+FFFD', () => {
    const data = structuredClone(sample);
    data.ks_meta.configdrive_files = [{ path: '/etc/x', content: 'a\ud800b' }];
    try {
      buildConfigDrive(data);
      expect.unreachable();
    } catch (e) {
      expect([(e as ForgeError).code, (e as ForgeError).field]).toEqual(['CONFIG_INVALID', 'ks_meta.configdrive_files[0].content']);
    }
  });
});

describe('MIME with hostile bodies, read by cloud-init', () => {
  it('keeps boundary-looking lines, CRLF, NUL, DEL and non-ASCII in their part, byte for byte', async () => {
    const parts = [
      { contentType: 'text/cloud-config', filename: 'a.yaml', body: '#cloud-config\n--===============fuel-forge-\n--\n\n--x--\n' },
      { contentType: 'text/x-shellscript', filename: 'b.sh', body: 'line\r\nnext\rlast\x00\x7f é\u2028\n\n' },
      { contentType: 'text/cloud-boothook', filename: 'c.sh', body: `Content-Type: text/plain\n\n${'y'.repeat(1500)}` },
    ];
    const doc = buildMultipart(parts);
    const boundary = /boundary="([^"]+)"/.exec(doc)![1]!;
    for (const p of parts) expect(p.body.includes(boundary)).toBe(false);
    const f = join(work, 'hostile-mime');
    writeFileSync(f, doc);
    const [back] = await readWithCloudInit(runner, [{ userData: f }], work);
    expect(back!.parts!.map((p) => [p.contentType, p.filename, p.payload])).toEqual(parts.map((p) => [p.contentType, p.filename, p.body]));
    expect(parseMultipart(doc)).toEqual(parts);
  });

  it('refuses a body that UTF-8 cannot carry', () => {
    expect(() => buildMultipart([{ contentType: 'text/x-shellscript', filename: 'a.sh', body: 'x\udc00' }])).toThrow(/surrogate/);
  });
});
