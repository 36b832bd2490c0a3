// Hostile and careless input (issue 12): each value below passed validation once and
// changed the meaning of a file we render, an argv or a path, or failed only after
// the disks were wiped. Every one must now be refused, by `provision plan` and by
// `provision run` alike, naming its JSON path, with exit 2 — and a real run on two
// loop devices must write nothing: their sparse backing files stay unallocated
// (any write, even wipefs, allocates blocks).
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scenarioPaths } from '../plan/fixtures.js';
import { runCli } from '../testing/cli/run-cli.js';
import { createLoopDisk, type LoopDisk } from '../testing/loop-disks.js';

type Doc = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const work = mkdtempSync(join(tmpdir(), 'forge-hostile-'));
const disks: LoopDisk[] = [];
let inventoryPath = '';
let base: Doc;

beforeAll(async () => {
  for (const tag of ['hostile-a', 'hostile-b']) disks.push(await createLoopDisk({ sizeMiB: 4096, tag }));
  const inv = JSON.parse(readFileSync(scenarioPaths('two-disks-raid-lvm').inventory, 'utf8'));
  base = JSON.parse(readFileSync(scenarioPaths('two-disks-raid-lvm').input, 'utf8'));
  inv.disks.forEach((d: Doc, i: number) => {
    const dev = disks[i]!.device;
    Object.assign(d, { name: dev.replace('/dev/', ''), path: dev, type: 'loop', links: [] });
    Object.assign(base.ks_meta.pm_data.ks_spaces[i], { name: dev.replace('/dev/', ''), id: dev.replace('/dev/', ''), extra: [] });
  });
  base.ks_meta.user_accounts.push({ name: 'fuel', password: 'fuel', homedir: '/var/lib/fuel', ssh_keys: ['ssh-ed25519 AAAA fuel@lab'], sudo: ['ALL=(ALL) NOPASSWD: ALL'] });
  inventoryPath = join(work, 'inventory.json');
  writeFileSync(inventoryPath, JSON.stringify(inv));
});

afterAll(async () => {
  for (const d of disks) await d.dispose();
  rmSync(work, { recursive: true, force: true });
});

const ks = (d: Doc) => d.ks_meta;
const disk = (d: Doc, i = 0) => d.ks_meta.pm_data.ks_spaces[i];
const vg = (d: Doc, id: string) => d.ks_meta.pm_data.ks_spaces.find((s: Doc) => s.type === 'vg' && s.id === id);
const user = (d: Doc) => d.ks_meta.user_accounts.find((u: Doc) => u.name === 'fuel');

/** [what, mutation, the JSON path the refusal must name] */
const CASES: [string, (d: Doc) => void, string][] = [
  // 2. Unicode line breaks and control characters in single-line values
  ['U+2028 in mco_password', (d) => (ks(d).mco_password = 'pass\u2028word'), 'ks_meta.mco_password'],
  ['U+0085 in a password', (d) => (user(d).password = 'pa\u0085ss'), 'ks_meta.user_accounts[1].password'],
  ['U+2029 in an authorized key', (d) => (ks(d).authorized_keys[0] += '\u2029ssh-rsa AAAA evil'), 'ks_meta.authorized_keys[0]'],
  ['NUL in puppet_master', (d) => (ks(d).puppet_master = 'fuel\u0000.forge.test'), 'ks_meta.puppet_master'],
  ['vertical tab in mco_pskey', (d) => (ks(d).mco_pskey = 'a\u000bb'), 'ks_meta.mco_pskey'],
  // 3. Injection into files we render
  ['newline in ip_address (/etc/hosts)', (d) => (d.interfaces.eth0.ip_address = '10.20.0.3\n6.6.6.6 fuel.forge.test'), 'interfaces.eth0.ip_address'],
  ['newline in uid (mcollective server.cfg)', (d) => (d.uid = '1\nsecurityprovider = none'), 'uid'],
  ['newline in an interface name (ENI)', (d) => { d.interfaces['eth0\n  up rm -rf /'] = d.interfaces.eth0; delete d.interfaces.eth0; }, 'interfaces'],
  ['newline in kernel_params', (d) => (d.ks_meta.pm_data.kernel_params = 'console=ttyS0\ninit=/bin/sh'), 'ks_meta.pm_data.kernel_params'],
  ['; in kernel_params', (d) => (d.ks_meta.pm_data.kernel_params = 'quiet; insmod evil'), 'ks_meta.pm_data.kernel_params'],
  ['$var in kernel_params', (d) => (d.ks_meta.pm_data.kernel_params = 'root=$root'), 'ks_meta.pm_data.kernel_params'],
  ['# and } in kernel_params', (d) => (d.ks_meta.pm_data.kernel_params = 'quiet } #'), 'ks_meta.pm_data.kernel_params'],
  ['tab in a mount point (fstab)', (d) => (vg(d, 'data-vg').volumes[0].mount = '/srv\tdefaults'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['space in a mount point', (d) => (vg(d, 'data-vg').volumes[0].mount = '/srv/my data'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['newline in a mount point', (d) => (vg(d, 'data-vg').volumes[0].mount = '/srv\n/dev/sda1 / ext4'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['a second name server line', (d) => (d.name_servers = '"10.20.0.2\nnameserver 6.6.6.6"'), 'name_servers'],
  ['a name server that is not an address', (d) => (d.name_servers = '"10.20.0.2,evil.example"'), 'name_servers'],
  ['a path as time zone', (d) => (ks(d).timezone = '../../../etc/passwd'), 'ks_meta.timezone'],
  ['a space in mco_user (server.cfg)', (d) => (ks(d).mco_user = 'mco plugin.psk = x'), 'ks_meta.mco_user'],
  ['a repo section that adds options', (d) => (ks(d).repo_setup.repos[0].section = 'main\ndeb http://evil/ x y'), 'ks_meta.repo_setup.repos[0].section'],
  ['a repo uri with a space', (d) => (ks(d).repo_setup.repos[0].uri = 'http://a/ [trusted=yes]'), 'ks_meta.repo_setup.repos[0].uri'],
  // 4. Paths that escape, and the same mount written twice
  ['mount /../../../../etc', (d) => (vg(d, 'data-vg').volumes[0].mount = '/../../../../etc'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['mount //', (d) => (vg(d, 'data-vg').volumes[0].mount = '//'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['mount /boot/ beside /boot', (d) => (vg(d, 'data-vg').volumes[0].mount = '/boot/'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['mount /srv/./x', (d) => (vg(d, 'data-vg').volumes[0].mount = '/srv/./x'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['relative homedir', (d) => (user(d).homedir = 'var/lib/../../root'), 'ks_meta.user_accounts[1].homedir'],
  ['configdrive file outside /', (d) => (ks(d).configdrive_files = [{ path: '/etc/../../x', content: 'x' }]), 'ks_meta.configdrive_files[0].path'],
  // 5. Accepted by plan once, failing only after the wipe
  ['VG id a/b', (d) => { vg(d, 'data-vg').id = 'a/b'; disk(d, 0).volumes[4].vg = 'a/b'; disk(d, 1).volumes[4].vg = 'a/b'; }, 'ks_meta.pm_data.ks_spaces[3].id'],
  ['VG id -rf (an option to vgcreate)', (d) => { vg(d, 'data-vg').id = '-rf'; disk(d, 0).volumes[4].vg = '-rf'; disk(d, 1).volumes[4].vg = '-rf'; }, 'ks_meta.pm_data.ks_spaces[3].id'],
  ['LV name ../../sda', (d) => (vg(d, 'data-vg').volumes[0].name = '../../sda'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].name'],
  ['LV name LVM reserves', (d) => (vg(d, 'data-vg').volumes[0].name = 'data_tmeta'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].name'],
  ['the same VG twice', (d) => d.ks_meta.pm_data.ks_spaces.push(JSON.parse(JSON.stringify(vg(d, 'data-vg')))), 'ks_meta.pm_data.ks_spaces[4].id'],
  ['two LVs with one name', (d) => vg(d, 'os').volumes.push({ type: 'lv', name: 'root', size: 0 }), 'ks_meta.pm_data.ks_spaces[2].volumes[2].name'],
  ['md name ../x y', (d) => { disk(d, 0).volumes[1].name = '../x y'; disk(d, 1).volumes[1].name = '../x y'; }, 'ks_meta.pm_data.ks_spaces[0].volumes[1].name'],
  ['a label with a newline', (d) => (vg(d, 'os').volumes[0].disk_label = 'ro\not'), 'ks_meta.pm_data.ks_spaces[2].volumes[0].disk_label'],
  ['a label over ext4\'s 16 bytes', (d) => (vg(d, 'os').volumes[0].disk_label = 'ééééééééééé'), 'ks_meta.pm_data.ks_spaces[2].volumes[0].disk_label'],
  ['xfs on a swap mount', (d) => (vg(d, 'os').volumes[1].file_system = 'xfs'), 'ks_meta.pm_data.ks_spaces[2].volumes[1].file_system'],
  ['swap file system on a mounted volume', (d) => (vg(d, 'data-vg').volumes[0].file_system = 'swap'), 'ks_meta.pm_data.ks_spaces[3].volumes[0].mount'],
  ['image_data keyed swap', (d) => (ks(d).image_data.swap = { ...ks(d).image_data['/'] }), 'ks_meta.image_data.swap'],
  ['file://otherhost/path', (d) => (ks(d).image_data['/'].uri = 'file://otherhost/srv/image.img.gz'), 'ks_meta.image_data["/"].uri'],
  // 6. Silent drops and merges
  ['a malformed udevrules entry', (d) => (d.kernel_options.udevrules = '52:54:00:12:34:56_eth0,garbage'), 'kernel_options.udevrules'],
  ['a udevrules name with a quote', (d) => (d.kernel_options.udevrules = '52:54:00:12:34:56_eth0"'), 'kernel_options.udevrules'],
  ['two repos with one name', (d) => ks(d).repo_setup.repos.push({ ...ks(d).repo_setup.repos[0], uri: 'http://other/' }), 'ks_meta.repo_setup.repos[1].name'],
  ['a newline in an ssh key', (d) => (user(d).ssh_keys = ['ssh-ed25519 AAAA\nssh-rsa BBBB evil']), 'ks_meta.user_accounts[1].ssh_keys[0]'],
  ['a newline in a homedir', (d) => (user(d).homedir = '/home/fuel\nx'), 'ks_meta.user_accounts[1].homedir'],
  ['a sudo rule sudo cannot parse', (d) => (user(d).sudo = ['ALL=(ALL) NOPASSWD: ALL', 'ALL=(ALL NOPASSWD ALL']), 'ks_meta.user_accounts[1].sudo[1]'],
  ['a sudo rule that is a comment', (d) => (user(d).sudo = ['#include /tmp/evil']), 'ks_meta.user_accounts[1].sudo[0]'],
  ['a hostname label of 64 characters', (d) => (d.hostname = `${'a'.repeat(64)}.forge.test`), 'hostname'],
  ['an empty hostname label', (d) => (d.hostname = 'node-1..forge.test'), 'hostname'],
  ['an empty hostname', (d) => (d.hostname = ''), 'hostname'],
  ['a hostname with an underscore', (d) => (d.hostname = 'node_1.forge.test'), 'hostname'],
  ['a file: call-back URL', (d) => (ks(d).callback_url = 'file:///tmp/provisioned'), 'ks_meta.callback_url'],
  ['a master_ip that is not an address', (d) => (ks(d).master_ip = '10.20.0.2/24'), 'ks_meta.master_ip'],
  ['a MAC that is not one', (d) => (d.interfaces.eth0.mac_address = '52:54:00:12:34'), 'interfaces.eth0.mac_address'],
  ['a netmask with holes', (d) => (d.interfaces.eth0.netmask = '255.0.255.0'), 'interfaces.eth0.netmask'],
  ['a user name with a newline', (d) => (user(d).name = 'fuel\nroot'), 'ks_meta.user_accounts[1].name'],
];

async function writeCase(n: number, mutate: (d: Doc) => void): Promise<string> {
  const d = JSON.parse(JSON.stringify(base));
  mutate(d);
  const p = join(work, `case-${n}.json`);
  writeFileSync(p, JSON.stringify(d));
  return p;
}

describe('hostile input: plan and run refuse it alike, naming the field, before any write', () => {
  it('the unmutated base data plans (so every refusal below is the mutation\'s)', async () => {
    const input = await writeCase(-1, () => undefined);
    const r = await runCli(['plan', '--input', input, '--inventory', inventoryPath, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(CASES.map(([what, mutate, field], n) => ({ what, mutate, field, n })))('$what', async ({ mutate, field, n }) => {
    const input = await writeCase(n, mutate);
    const plan = await runCli(['plan', '--input', input, '--inventory', inventoryPath]);
    const report = join(work, `report-${n}.json`);
    const run = await runCli(['run', '--input', input, '--inventory', inventoryPath, '--log', join(work, 'run.log'), '--report', report]);
    for (const r of [plan, run]) {
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(field);
      // One line per problem: no value splits an error line.
      for (const line of r.err.split('\n')) expect(line).toMatch(/^error/);
    }
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.devicesWritten).toEqual([]);
    expect(rep.steps.map((s: { step: string }) => s.step)).not.toContain('partition');
  });

  it('nothing reached the disks: their sparse backing files hold no allocated block', () => {
    for (const d of disks) expect(statSync(d.file).blocks, d.device).toBe(0);
  });
});
