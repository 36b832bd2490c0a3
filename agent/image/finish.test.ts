// The after-write steps, by the argv they run (RecordingRunner, no devices).
import { describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { decompressArgv } from '../tools/decompress.js';
import { qemuImgConvertArgv } from '../tools/qemu-img.js';
import { finishTarget } from './finish.js';

function ctxWith(blkid: string, exit: Record<string, number> = {}) {
  const runner = new RecordingRunner({
    respond: (argv) => (argv[0] === 'blkid' ? { stdout: blkid } : argv[0] && exit[argv[0]] !== undefined ? { exitCode: exit[argv[0]] as number } : undefined),
  });
  return { runner, ctx: createCtx({ runner, log: silentLogger }) };
}

describe('finishTarget', () => {
  it('ext4: e2fsck -fy, resize2fs, then the UUID from a low-level probe', async () => {
    const { runner, ctx } = ctxWith('DEVNAME=/dev/sda3\nUUID=1234-abcd\nTYPE=ext4\n');
    const r = await finishTarget(ctx, 'ext4', '/dev/sda3', { resize: true });
    expect(runner.calls).toEqual([['e2fsck', '-fy', '/dev/sda3'], ['resize2fs', '/dev/sda3'], ['blkid', '-p', '-o', 'export', '/dev/sda3']]);
    expect(r).toEqual({ uuid: '1234-abcd', grown: true, repaired: false });
  });

  it('ext4: errors e2fsck could not fix stop the step', async () => {
    const { ctx } = ctxWith('', { e2fsck: 4 });
    await expect(finishTarget(ctx, 'ext4', '/dev/sda3', { resize: true })).rejects.toMatchObject({ code: 'TOOL_FAILED', command: ['e2fsck', '-fy', '/dev/sda3'] });
  });

  it('xfs: xfs_repair -n, then xfs_growfs on a temporary nouuid mount that is unmounted again', async () => {
    const { runner, ctx } = ctxWith('UUID=x\n');
    await finishTarget(ctx, 'xfs', '/dev/vg/root', { resize: true });
    const names = runner.calls.map((a) => a[0]);
    expect(names).toEqual(['xfs_repair', 'mount', 'xfs_growfs', 'umount', 'blkid']);
    expect(runner.calls[1]).toEqual(['mount', '-t', 'xfs', '-o', 'nouuid', '/dev/vg/root', runner.calls[2]?.[1]]);
    expect(runner.calls[3]).toEqual(['umount', runner.calls[2]?.[1]]);
  });

  it('whole disk with GPT: moves the backup header to the end', async () => {
    const { runner, ctx } = ctxWith('PTUUID=abc\nPTTYPE=gpt\n');
    const r = await finishTarget(ctx, 'qcow2', '/dev/sdb', { resize: true });
    expect(runner.calls).toEqual([['blkid', '-p', '-o', 'export', '/dev/sdb'], ['sgdisk', '-e', '/dev/sdb']]);
    expect(r.uuid).toBe('abc');
  });

  it('builds decompressor and qemu-img argv without a shell', () => {
    expect(decompressArgv('xz')).toEqual(['xz', '-dc']);
    expect(decompressArgv('zstd')).toEqual(['zstd', '-dcq']);
    expect(qemuImgConvertArgv('/tmp/a.qcow2', '/dev/sdb')).toEqual(['qemu-img', 'convert', '-n', '-f', 'qcow2', '-O', 'raw', '-t', 'none', '/tmp/a.qcow2', '/dev/sdb']);
  });
});
