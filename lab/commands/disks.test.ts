import { describe, expect, it } from 'vitest';
import { formatView } from './disks.js';

describe('lab disks', () => {
  it('prints each partition with its number, sectors, MiB and type', () => {
    const lines = formatView({
      label: 'gpt', sectorSize: 4096,
      partitions: [
        { node: '/tmp/forge-disks-x/disk0.qcow2.raw1', start: 256, size: 6144, type: '21686148-6449-6E6F-744E-656564454649', name: 'primary' },
        { node: '/dev/loop7p12', start: 6400, size: 262144, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' },
      ],
    });
    expect(lines[0]).toBe('  label gpt, 4096-byte sectors, 2 partition(s)');
    expect(lines[1]).toMatch(/^ {2}#1 +start +256 +size +6144 \(24 MiB\) +type 21686148-6449-6E6F-744E-656564454649 +name primary$/);
    expect(lines[2]).toMatch(/^ {2}#12 +start +6400 +size +262144 \(1024 MiB\) +type 0FC63DAF/);
    expect(formatView({ label: undefined, sectorSize: 512, partitions: [] })).toEqual(['  label none, 512-byte sectors, 0 partition(s)']);
  });
});
