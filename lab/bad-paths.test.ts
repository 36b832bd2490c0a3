// Bad paths the lab must show handled, on the real ramdisk in a VM.
import { describe, it, expect } from 'vitest';
import { rmSync } from 'node:fs';
import { ExecaRunner } from '../agent/core/runner.js';
import { bootstrapFiles } from './vm/bootstrap-files.js';
import { runInVm } from './vm/run-in-vm.js';
import { provisionData, singleDisk } from './scenario.js';

describe.skipIf(!bootstrapFiles())('bad paths in a VM', () => {
  it('malformed provision data is rejected with exit 2 naming the field, and the disk stays untouched', async () => {
    const data = provisionData({
      uid: '7', hostname: 'node-7.domain.tld', macs: ['52:54:00:f0:c8:00'], masterUrl: 'http://10.0.2.2:9', scenario: singleDisk,
      image: { uri: 'http://10.0.2.2:9/targetimages/x.img.gz', format: 'ext4', container: 'gzip', md5: 'not-a-md5' },
    });
    const r = await runInVm({
      disks: [{ sizeMiB: 4096 }],
      uploads: { '/tmp/provision.json': JSON.stringify(data) },
      tasks: [
        ['provision', 'run', '--input', '/tmp/provision.json'],
        // Every sector of the disk still reads as zero: nothing was written.
        ['cmp', '-n', String(64 * 1024 * 1024), '/dev/vda', '/dev/zero'],
        ['blkid', '-p', '/dev/vda'],
      ],
      keepDir: true,
    });
    try {
      const [run, cmp, blkid] = r.results.map((x) => x.result);
      expect(run?.exitCode).toBe(2);
      expect(run?.stderrTail + (run?.stdout ?? '')).toMatch(/image_data.*md5/);
      expect(cmp?.exitCode).toBe(0);
      expect(blkid?.exitCode).toBe(2); // no signature at all
      const info = await new ExecaRunner().run(['qemu-img', 'map', '--output=json', `${r.vmDir}/disk0.qcow2`], { readOnly: true });
      const extents = JSON.parse(info.stdout) as { data: boolean; zero: boolean }[];
      expect(extents.filter((e) => e.data && !e.zero)).toEqual([]);
    } finally {
      rmSync(r.vmDir, { recursive: true, force: true });
    }
  }, 600_000);
});
