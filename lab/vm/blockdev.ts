// A lab disk with hardware faults, as QEMU block nodes: the qcow2 under a
// `blkdebug` filter (EIO on writes touching a byte, or on every flush — guest
// offsets, since the filter sits above the format) and/or a `throttle` filter (a
// slow disk). A disk without faults keeps the plain -drive.
import { ForgeError } from '../../agent/core/errors.js';

/** What a disk does wrong. */
export interface DiskFaults {
  /** EIO for writes whose range holds `atByte` (a bad sector), or for every flush (a cache that cannot commit). */
  eio?: ({ on: 'write'; atByte: number } | { on: 'flush' })[];
  /** Writes at most this many bytes per second (a slow or degraded disk). */
  writeBytesPerSec?: number;
}

const EIO = 5;

/** QEMU's argv for disk `id` with faults: the throttle group object (if any) and one -blockdev, JSON both. */
export function faultyBlockdevArgv(id: string, file: string, faults: DiskFaults): string[] {
  let node: Record<string, unknown> = {
    driver: 'qcow2',
    'node-name': `${id}-qcow2`,
    discard: 'unmap',
    file: { driver: 'file', filename: file },
  };
  const a: string[] = [];
  const eio = faults.eio ?? [];
  if (eio.length) {
    node = {
      driver: 'blkdebug',
      'node-name': `${id}-faults`,
      // event "none": the rules are armed from the start, not by a format driver's internal event.
      'inject-error': eio.map((f) => f.on === 'write'
        ? { event: 'none', iotype: 'write', errno: EIO, sector: Math.floor(f.atByte / 512) }
        : { event: 'none', iotype: 'flush', errno: EIO }),
      image: node,
    };
  }
  if (faults.writeBytesPerSec !== undefined) {
    if (!(faults.writeBytesPerSec > 0)) throw new ForgeError('USAGE', `disk ${id}: writeBytesPerSec must be > 0`, { field: 'faults.writeBytesPerSec' });
    const group = `${id}-throttle`;
    a.push('-object', JSON.stringify({ 'qom-type': 'throttle-group', id: group, limits: { 'bps-write': Math.round(faults.writeBytesPerSec) } }));
    node = { driver: 'throttle', 'node-name': `${id}-slow`, 'throttle-group': group, file: node };
  }
  // The node the guest's device attaches to is named after the disk.
  a.push('-blockdev', JSON.stringify({ ...node, 'node-name': id }));
  return a;
}
