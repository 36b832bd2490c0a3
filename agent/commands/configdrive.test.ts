import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../core/runner.js';
import { NAILGUN_DIR } from '../plan/fixtures.js';
import { readWithCloudInit } from '../testing/cloud-init.js';
import { runCli as run } from '../testing/cli/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'forge-cd-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SAMPLE = `${NAILGUN_DIR}provision_sample.json`;
const sample = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Record<string, any>;

function inputFile(name: string, data: unknown): string {
  const f = join(work, name);
  writeFileSync(f, JSON.stringify(data));
  return f;
}

describe('provision configdrive --out DIR', () => {
  it('renders every file cloud-init reads, and cloud-init reads them back as the data says', async () => {
    const data = structuredClone(sample);
    // Values PyYAML 1.1 misreads when written unquoted: a sexagesimal MAC, a boolean user name, a sexagesimal password.
    data.interfaces.eth0.mac_address = '52:54:00:12:34:56';
    data.kernel_options['netcfg/choose_interface'] = '52:54:00:12:34:56';
    data.kernel_options.udevrules = '52:54:00:12:34:56_eth0,08:00:27:46:43:60_eth1,08:00:27:b1:d7:15_eth2';
    data.ks_meta.user_accounts[0].name = 'no';
    data.ks_meta.user_accounts[2].password = '12:30:45';
    data.ks_meta.configdrive_files = [{ path: '/etc/motd', content: 'yes: no\n--boundary--\n' }];
    const out = join(work, 'drive');
    const r = await run(['configdrive', '--out', out, '--input', inputFile('hostile.json', data), '--callback-url', 'http://lab:9000/n/{uid}']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.out) as { out: string; hostname: string; files: { path: string; bytes: number }[] };
    expect(printed.hostname).toBe('node-1.domain.tld');
    expect(printed.files.map((f) => f.path.slice(out.length + 1)).sort()).toEqual([
      'meta-data', 'network-config', 'openstack/content/0000', 'openstack/latest/meta_data.json',
      'openstack/latest/network_data.json', 'openstack/latest/user_data', 'user-data',
    ]);
    for (const f of printed.files) expect(statSync(f.path).size).toBe(f.bytes);
    expect(statSync(join(out, 'user-data')).mode & 0o777).toBe(0o600);

    const [back] = await readWithCloudInit(new ExecaRunner(), [{
      userData: join(out, 'user-data'),
      yaml: { meta: join(out, 'meta-data'), net: join(out, 'network-config') },
      text: { content: join(out, 'openstack/content/0000'), ud2: join(out, 'openstack/latest/user_data') },
    }], work);
    const parts = back!.parts!;
    expect(parts.map((p) => [p.contentType, p.filename])).toEqual([
      ['text/cloud-config', 'cloud-config.yaml'], ['text/cloud-boothook', 'boothook.sh'], ['text/x-shellscript', 'firstboot.sh'],
    ]);
    const cc = parts[0]!.yaml!.value as Record<string, any>;
    expect(parts[0]!.yaml!.error).toBeUndefined();
    expect(cc.users.map((u: { name: unknown }) => u.name)).toEqual(['no', 'fuel']);
    expect(cc.chpasswd.users).toEqual([{ name: 'root', password: '12:30:45', type: 'text' }]);
    const report = cc.write_files.find((f: { path: string }) => f.path === '/etc/fuel-forge/report.json');
    expect(JSON.parse(report.content).callback_url).toBe('http://lab:9000/n/1');
    const net = back!.yaml.net!.value as { version: number; config: Record<string, unknown>[] };
    expect(net.version).toBe(1);
    expect(net.config[0]).toMatchObject({ type: 'physical', name: 'eth0', mac_address: '52:54:00:12:34:56' });
    expect(back!.yaml.meta!.value).toMatchObject({ 'local-hostname': 'node-1.domain.tld', 'public-keys': ['fake_authorized_key1', 'fake_authorized_key2'] });
    expect(back!.text.content).toBe('yes: no\n--boundary--\n');
    expect(back!.text.ud2).toBe(readFileSync(join(out, 'user-data'), 'utf8'));
    const meta = JSON.parse(readFileSync(join(out, 'openstack/latest/meta_data.json'), 'utf8'));
    expect(meta.files).toEqual([{ path: '/etc/motd', content_path: '/content/0000' }]);
  });

  it('refuses a non-empty directory, and bad input before creating anything (exit 2)', async () => {
    const full = join(work, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'old'), 'x');
    const r = await run(['configdrive', '--out', full, '--input', SAMPLE]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not empty/);
    expect(existsSync(join(full, 'user-data'))).toBe(false);

    const data = structuredClone(sample);
    data.ks_meta.mco_password = 'x\nconnector = evil';
    const never = join(work, 'never');
    const bad = await run(['configdrive', '--out', never, '--input', inputFile('bad.json', data)]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/ks_meta\.mco_password/);
    expect(existsSync(never)).toBe(false);

    const file = join(work, 'a-file');
    writeFileSync(file, '');
    expect((await run(['configdrive', '--out', file, '--input', SAMPLE])).code).toBe(2);
  });

  it('takes only the options that mean something without a device', async () => {
    const r = await run(['configdrive', '--out', join(work, 'x'), '--input', SAMPLE, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--dry-run[\s\S]*usage: provision configdrive --out DIR/);
    expect(existsSync(join(work, 'x'))).toBe(false);
    const help = await run(['configdrive', '--help']);
    expect(help.out).toContain('--out DIR');
  });
});
