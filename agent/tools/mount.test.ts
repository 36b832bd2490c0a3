import { describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { MountStack, mountArgv } from './mount.js';

describe('mount', () => {
  it('builds argv for bind, typed and read-only mounts', () => {
    expect(mountArgv('/dev', '/t/dev', { bind: true })).toEqual(['mount', '--bind', '/dev', '/t/dev']);
    expect(mountArgv('/dev/sda1', '/t', { type: 'ext4', readOnly: true, options: ['noatime'] })).toEqual([
      'mount', '-t', 'ext4', '-o', 'ro,noatime', '/dev/sda1', '/t',
    ]);
  });

  it('unmounts in reverse order on dispose', async () => {
    const runner = new RecordingRunner();
    const ctx = createCtx({ runner, log: silentLogger });
    {
      await using stack = new MountStack(ctx);
      await stack.mount('/dev/sda2', '/t');
      await stack.mount('/dev/sda1', '/t/boot');
    }
    expect(runner.calls.slice(2)).toEqual([['umount', '/t/boot'], ['umount', '/t']]);
  });

  it('keeps unmounting after a failure and reports it', async () => {
    const runner = new RecordingRunner({ respond: (a) => (a[0] === 'umount' && a[1] === '/t/boot' ? { exitCode: 32 } : undefined) });
    const stack = new MountStack(createCtx({ runner, log: silentLogger }));
    await stack.mount('/dev/sda2', '/t');
    await stack.mount('/dev/sda1', '/t/boot');
    await expect(stack.dispose()).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(runner.calls).toContainEqual(['umount', '/t']);
    expect(runner.calls).toContainEqual(['umount', '--lazy', '/t/boot']);
  });
});
