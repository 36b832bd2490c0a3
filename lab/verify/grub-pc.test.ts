import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grubPcSelections, installDevicesOf, parseDebconfShow } from '../../agent/bootloader/grub-pc-devices.js';
import type { RunResult } from '../../agent/core/runner.js';
import { privateDebconf } from '../../agent/testing/debconf-db.js';
import { grubPcDevicesCheck } from './grub-pc.js';

const tmp = mkdtempSync(join(tmpdir(), 'forge-grub-pc-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What debconf-show prints for grub-pc after these selections, from debconf itself. */
function debconfShow(name: string, selections: string): string {
  const env = privateDebconf(join(tmp, name));
  expect(spawnSync('debconf-set-selections', [], { input: selections, env }).status).toBe(0);
  const show = spawnSync('debconf-show', ['grub-pc'], { env, encoding: 'utf8' });
  expect(show.status).toBe(0);
  return show.stdout;
}

const result = (argv: string[], stdout: string, exitCode = 0): RunResult => ({ argv, exitCode, stdout, stderr: '', durationMs: 1, timedOut: false, skipped: false });

describe('parseDebconfShow', () => {
  it('reads debconf-show\'s own output: seen and unseen questions, values with commas and blanks, empty values', () => {
    const out = debconfShow('a', [
      grubPcSelections(['/dev/disk/by-id/virtio-forge-disk1', '/dev/disk/by-id/virtio-forge-disk2']).trimEnd(),
      'grub-pc grub-pc/kopt_extracted boolean false',
      'grub-pc grub-pc/timeout string ',
      '',
    ].join('\n'));
    const a = parseDebconfShow(out);
    expect(installDevicesOf(a['grub-pc/install_devices'] as string)).toEqual(['/dev/disk/by-id/virtio-forge-disk1', '/dev/disk/by-id/virtio-forge-disk2']);
    expect(a['grub-pc/install_devices_empty']).toBe('false');
    expect(a['grub-pc/kopt_extracted']).toBe('false');
    expect(a['grub-pc/timeout']).toBe('');
  });
});

describe('grubPcDevicesCheck', () => {
  const show = debconfShow('b', grubPcSelections(['/dev/disk/by-id/virtio-forge-disk1', '/dev/disk/by-id/virtio-forge-disk2']));
  const node = (serials: string) => async (argv: string[]) => (argv[0] === 'debconf-show' ? result(argv, show) : result(argv, serials));

  it('passes when the named disks are the boot disks, in any order', async () => {
    const c = await grubPcDevicesCheck(node('forge-disk2\nforge-disk1\n'), ['forge-disk1', 'forge-disk2']);
    expect(c).toMatchObject({ ok: true, detail: expect.stringContaining('virtio-forge-disk1') });
  });

  it('fails naming what it found: one disk only (cloud-init\'s pick), a RAID device with no serial, an empty answer', async () => {
    expect(await grubPcDevicesCheck(node('forge-disk1\n'), ['forge-disk1', 'forge-disk2'])).toMatchObject({ ok: false, detail: expect.stringContaining('want the boot disks forge-disk1, forge-disk2') });
    const md = debconfShow('md', 'grub-pc grub-pc/install_devices string /dev/disk/by-id/md-name-node-1:Boot\n');
    const raid = async (argv: string[]) => (argv[0] === 'debconf-show' ? result(argv, md) : result(argv, '\n'));
    expect(await grubPcDevicesCheck(raid, ['forge-disk1', 'forge-disk2'])).toMatchObject({ ok: false, detail: expect.stringContaining('md-name-node-1:Boot') });
    const empty = debconfShow('empty', 'grub-pc grub-pc/install_devices_empty boolean true\n');
    const none = async (argv: string[]) => result(argv, argv[0] === 'debconf-show' ? empty : '');
    expect(await grubPcDevicesCheck(none, ['forge-disk1'])).toMatchObject({ ok: false, detail: expect.stringContaining('install_devices is empty (install_devices_empty: true)') });
  });
});
