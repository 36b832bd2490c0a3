import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli as run } from '../testing/cli/run-cli.js';
import { NAILGUN_DIR, scenarioPaths } from '../plan/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'forge-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('provision plan', () => {
  it('prints a table per disk for a shared fixture and exits 0', async () => {
    const r = await run(['plan', '--input', `${NAILGUN_DIR}provision_sample.json`, '--inventory', `${NAILGUN_DIR}list_block_devices_sample.json`]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^disk \/dev\/sda \(ks_spaces sda, matched by extra disk\/by-id\/scsi-SATA_VBOX_HARDDISK_VB69050467-b385c7cd\)/m);
    expect(r.out).toMatch(/^1\s+\/dev\/sda1\s+1\s+25\s+24\s+bios_grub/m);
    expect(r.out).toMatch(/^2\s+\/dev\/sda2\s+26\s+226\s+200\s+uefi-reserve/m);
    expect(r.out).toMatch(/^\/boot\s+\/dev\/sda3\s+ext2/m);
    expect(r.out).toMatch(/^configdrive \/dev\/sda7 20 MiB vfat label config-2$/m);
  });

  it('prints stable JSON with --json', async () => {
    const p = scenarioPaths('two-disks-raid-lvm');
    const a = await run(['plan', '--input', p.input, '--inventory', p.inventory, '--json']);
    const b = await run(['plan', '--json', '--inventory', p.inventory, '--input', p.input]);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    const plan = JSON.parse(a.out);
    expect(Object.keys(plan)).toEqual(['version', 'parteds', 'mds', 'pvs', 'vgs', 'lvs', 'fss', 'images', 'bootloader', 'configdrive']);
    expect(plan.bootloader.rootDevice).toBe('/dev/mapper/os-root');
  });

  it('writes the disks drawn as a standalone page with --html and still prints the plan', async () => {
    const p = scenarioPaths('two-disks-raid-lvm');
    const file = join(work, 'plan.html');
    const r = await run(['plan', '--input', p.input, '--inventory', p.inventory, '--html', file]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^disk \/dev\/vda /m);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    const parts = [...html.matchAll(/data-part="([^"]+)"[^>]*data-role="([^"]+)"[^>]*data-size-mib="(\d+)"/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    expect(parts).toEqual([
      '/dev/vda1 bios_grub 24', '/dev/vda2 uefi-reserve 200', '/dev/vda3 raid:Boot 256', '/dev/vda4 pv:os 2560', '/dev/vda5 pv:data-vg 512', '/dev/vda6 configdrive 20',
      '/dev/vdb1 bios_grub 24', '/dev/vdb2 uefi-reserve 200', '/dev/vdb3 raid:Boot 256', '/dev/vdb4 pv:os 1024', '/dev/vdb5 pv:data-vg 1536',
    ]);
    const unwritable = await run(['plan', '--input', p.input, '--inventory', p.inventory, '--html', '/nonexistent/dir/plan.html']);
    expect([unwritable.code, unwritable.err]).toEqual([2, 'error [USAGE] --html /nonexistent/dir/plan.html: cannot write: ENOENT']);
  });

  it('exits 2 with one line per problem and no stack trace for a bad document', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ks_meta: { pm_data: { ks_spaces: [{ type: 'disk', id: 'sda', name: 'sda', size: 'x', volumes: [{ type: 'partition', size: -1 }] }] } } }));
    const r = await run(['plan', '--input', bad, '--inventory', scenarioPaths('single-disk').inventory]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toEqual([
      'error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].size: expected a number, got "x"',
      'error [CONFIG_INVALID] ks_meta.pm_data.ks_spaces[0].volumes[0].size: must be >= 0, got -1',
    ]);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 2 naming the disk that is not there', async () => {
    const r = await run(['plan', '--input', scenarioPaths('two-disks-raid-lvm').input, '--inventory', scenarioPaths('single-disk').inventory]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error \[DISK_NOT_FOUND\] ks_meta\.pm_data\.ks_spaces\[1\]: disk vdb not found/);
  });

  it('exits 2 for a missing input file and for unknown options', async () => {
    const missing = await run(['plan', '--input', '/nonexistent/provision.json', '--inventory', scenarioPaths('single-disk').inventory]);
    expect([missing.code, missing.err]).toEqual([2, 'error [INPUT_UNREADABLE] --input "/nonexistent/provision.json": cannot read: ENOENT (no such file or directory)']);
    const bogus = await run(['plan', '--frobnicate']);
    expect(bogus.code).toBe(2);
    expect(bogus.err.split('\n')).toEqual(["error [USAGE] Unknown option '--frobnicate'", expect.stringMatching(/^usage: provision plan /)]);
  });
});

describe('provision inventory', () => {
  it('prints the JSON inventory of this machine, which plan reads back', async () => {
    const r = await run(['inventory']);
    // Some machines (a ramdisk without drivers) have no disks: then the error must say so.
    if (r.code !== 0) {
      expect(r.err).toMatch(/no disks found/);
      return;
    }
    const inv = JSON.parse(r.out);
    expect(inv.version).toBe(1);
    expect(inv.disks.length).toBeGreaterThan(0);
    for (const d of inv.disks) {
      expect(d.path).toMatch(/^\/dev\//);
      expect(d.size).toBeGreaterThan(0);
      expect([512, 4096]).toContain(d.logicalSectorSize);
    }
  });
});
