import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANY_EXIT, ExecaRunner } from '../../agent/core/runner.js';
import { faultyBlockdevArgv } from './blockdev.js';

const runner = new ExecaRunner();
const dir = mkdtempSync(join(tmpdir(), 'forge-blockdev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The -blockdev JSON as qemu-io opens it (`json:` pseudo-protocol): QEMU's own block layer, no guest. */
async function qemuIo(node: string, commands: string[], objects: string[] = []): Promise<{ exitCode: number; out: string }> {
  const argv = ['qemu-io', ...objects.flatMap((o) => ['--object', o]), ...commands.flatMap((c) => ['-c', c]), `json:${node}`];
  const r = await runner.run(argv, { okExitCodes: ANY_EXIT });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

describe('faulty lab disks (blkdebug/throttle block nodes)', () => {
  it('EIO for a write touching the bad byte, in guest offsets; writes elsewhere succeed', async () => {
    const file = join(dir, 'eio.qcow2');
    await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', file, '64M']);
    const argv = faultyBlockdevArgv('d0', file, { eio: [{ on: 'write', atByte: 4 * 2 ** 20 + 4096 }] });
    expect(argv[0]).toBe('-blockdev');
    const r = await qemuIo(argv[1] as string, ['write 0 1M', 'write 3M 1M', 'write 4M 1M', 'write 8M 1M']);
    expect(r.out.match(/wrote 1048576\/1048576 bytes at offset (\d+)/g)).toEqual([
      'wrote 1048576/1048576 bytes at offset 0', 'wrote 1048576/1048576 bytes at offset 3145728', 'wrote 1048576/1048576 bytes at offset 8388608',
    ]);
    expect(r.out).toMatch(/write failed: Input\/output error/);
  });

  it('EIO on flush: the data is written, committing it fails', async () => {
    const file = join(dir, 'flush.qcow2');
    await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', file, '64M']);
    const node = faultyBlockdevArgv('d0', file, { eio: [{ on: 'flush' }] })[1] as string;
    const ok = await qemuIo(node, ['write 0 1M']);
    expect(ok.exitCode).toBe(0);
    const flushed = await qemuIo(node, ['write 0 1M', 'flush']);
    expect(flushed.exitCode).not.toBe(0);
  });

  it('a slow disk: writes take as long as the byte rate says', async () => {
    const file = join(dir, 'slow.qcow2');
    await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', file, '64M']);
    const argv = faultyBlockdevArgv('d0', file, { writeBytesPerSec: 4 * 2 ** 20 });
    expect(argv.slice(0, 1)).toEqual(['-object']);
    const group = JSON.parse(argv[1] as string) as { id: string; limits: { 'bps-write': number } };
    // qemu-io takes the same object in its own syntax.
    const t0 = Date.now();
    // Leaky bucket: a request goes through and the next waits for it, so 8 × 1 MiB at 4 MiB/s take ~1.75 s.
    const writes = Array.from({ length: 8 }, (_, i) => `write ${i}M 1M`);
    const r = await qemuIo(argv[3] as string, writes, [`throttle-group,id=${group.id},x-bps-write=${group.limits['bps-write']}`]);
    expect(r.exitCode, r.out).toBe(0);
    expect(Date.now() - t0).toBeGreaterThan(1200);
  });

  it('faults and throttling stack: the guest device attaches to the node named after the disk', () => {
    const argv = faultyBlockdevArgv('d3', '/x.qcow2', { eio: [{ on: 'flush' }], writeBytesPerSec: 1000 });
    const top = JSON.parse(argv.at(-1) as string) as { driver: string; 'node-name': string; file: { driver: string; image: { driver: string } } };
    expect([top.driver, top['node-name'], top.file.driver, top.file.image.driver]).toEqual(['throttle', 'd3', 'blkdebug', 'qcow2']);
    expect(() => faultyBlockdevArgv('d0', '/x', { writeBytesPerSec: 0 })).toThrow(/writeBytesPerSec/);
  });
});
