// Boots the real bootstrap ramdisk (built on first use) and drives it through the
// task exchange: upload, run, LVM inside the guest (no dm on the host).
import { beforeAll, describe, it, expect } from 'vitest';
import { ensureBootstrap } from '../../agent/host/artifacts.js';
import { runInVm } from './run-in-vm.js';

describe('runInVm (bootstrap ramdisk under TCG)', () => {
  beforeAll(() => ensureBootstrap(), 30 * 60_000);

  it('uploads a file, runs the agent and LVM in the guest, with 4K-sector disks visible', async () => {
    const r = await runInVm({
      disks: [{ sizeMiB: 128 }, { sizeMiB: 128, sectorSize: 4096 }],
      uploads: { '/tmp/hello.txt': 'hi there\n' },
      tasks: [
        ['cat', '/tmp/hello.txt'],
        ['provision', '--version'],
        ['lsblk', '-dnb', '-o', 'NAME,SIZE,LOG-SEC', '/dev/vda', '/dev/vdb'],
        ['vgcreate', 'vg0', '/dev/vda'],
        ['lvcreate', '-L', '16M', '-n', 'lv0', 'vg0'],
        ['false'],
      ],
    });
    const out = r.results.map((x) => x.result);
    expect(out[0]).toMatchObject({ exitCode: 0, stdout: 'hi there\n' });
    expect(out[1]?.stdout).toMatch(/^provision \d+\.\d+\.\d+/);
    expect(out[2]?.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/))).toEqual([['vda', '134217728', '512'], ['vdb', '134217728', '4096']]);
    expect(out[3]?.exitCode).toBe(0);
    expect(out[4]?.exitCode).toBe(0);
    expect(out[5]?.exitCode).not.toBe(0);
    expect(r.node.macs).toEqual(['52:54:00:f0:c8:00']);
    expect(r.serialLog).toMatch(/Linux version/);
    // eslint-disable-next-line no-console
    console.log(`runInVm timings: boot+discovery ${r.timings.bootMs} ms, tasks ${r.timings.tasksMs} ms`);
  }, 600_000);
});
