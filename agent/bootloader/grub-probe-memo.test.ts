import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { MountStack } from '../tools/mount.js';
import { memoizeGrubProbe, memoScript, mountOptionsAt } from './grub-probe-memo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A memo directory whose "real" grub-probe logs each call and answers from its argv. */
function memoDir(): { dir: string; calls: () => string[]; probe: (...args: string[]) => { stdout: string; stderr: string; status: number | null } } {
  const dir = mkdtempSync(join(tmpdir(), 'forge-memo-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'grub-probe'), `#!/bin/sh
printf '%s|' "$@" >> ${dir}/calls.log; echo >> ${dir}/calls.log
case "$*" in
  *--target=fs_uuid*) echo 1b2c-uuid; echo "probe warning" >&2 ;;
  *--target=partuuid*) echo "no partuuid" >&2; exit 1 ;;
  *) printf 'lvm\\nmdraid1x\\n' ;;
esac
`, { mode: 0o755 });
  writeFileSync(join(dir, 'memo'), memoScript(dir), { mode: 0o755 });
  const calls = (): string[] => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');
  const probe = (...args: string[]) => {
    const r = spawnSync(join(dir, 'memo'), args, { encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  return { dir, calls, probe };
}

describe('grub-probe memo', () => {
  it('answers a repeated question from the first answer: stdout, stderr and exit status exact, the real tool asked once', () => {
    const m = memoDir();
    const first = m.probe('--device', '/dev/mapper/os-root', '--target=fs_uuid');
    expect(first).toEqual({ stdout: '1b2c-uuid\n', stderr: 'probe warning\n', status: 0 });
    expect(m.probe('--device', '/dev/mapper/os-root', '--target=fs_uuid')).toEqual(first);
    const failed = m.probe('--device', '/dev/md127', '--target=partuuid');
    expect(failed).toEqual({ stdout: '', stderr: 'no partuuid\n', status: 1 });
    expect(m.probe('--device', '/dev/md127', '--target=partuuid')).toEqual(failed);
    expect(m.probe('--target=abstraction', '/')).toEqual({ stdout: 'lvm\nmdraid1x\n', stderr: '', status: 0 });
    expect(m.calls()).toEqual(['--device|/dev/mapper/os-root|--target=fs_uuid|', '--device|/dev/md127|--target=partuuid|', '--target=abstraction|/|']);
  });

  it('tells apart argv that only joining would confuse', () => {
    const m = memoDir();
    m.probe('--target=device', '/srv data');
    m.probe('--target=device', '/srv', 'data');
    m.probe('--target=device', '/srv data');
    expect(m.calls()).toEqual(['--target=device|/srv data|', '--target=device|/srv|data|']);
  });

  it('refuses a directory the script could not name plainly', () => {
    expect(() => memoScript('/run/x; rm -rf /')).toThrow(/plain absolute path/);
    expect(execFileSync('bash', ['-n'], { input: memoScript('/run/forge-grub-probe-ab12') })).toHaveLength(0);
  });

  it('copies the real tool into the memo directory and binds the memo over it; the mount stack undoes that, then removes the directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'forge-target-'));
    const parent = mkdtempSync(join(tmpdir(), 'forge-run-'));
    dirs.push(root, parent);
    execFileSync('mkdir', ['-p', join(root, 'usr/sbin')]);
    writeFileSync(join(root, 'usr/sbin/grub-probe'), 'elf', { mode: 0o755 });
    const runner = new RecordingRunner();
    const ctx0 = createCtx({ runner: new RecordingRunner(), log: silentLogger });
    // No bash in the target: no memo (the script is bash).
    expect(await memoizeGrubProbe(ctx0, new MountStack(ctx0), root, parent, '/proc/self/mounts')).toEqual([]);
    execFileSync('mkdir', ['-p', join(root, 'usr/bin')]);
    writeFileSync(join(root, 'usr/bin/bash'), 'elf', { mode: 0o755 });
    const ctx = createCtx({ runner, log: silentLogger });
    const stack = new MountStack(ctx);
    const mounts = join(parent, 'mounts');
    writeFileSync(mounts, `/dev/vda1 / ext4 rw 0 0\ntmpfs ${parent} tmpfs rw,nosuid,nodev 0 0\n`);
    expect(await memoizeGrubProbe(ctx, stack, root, parent, mounts)).toEqual(['/usr/sbin/grub-probe']);
    // The script names its directory as the chroot sees it (through its /run bind).
    const memoPath = runner.calls.at(-1)?.[2] ?? '';
    expect(readFileSync(memoPath, 'utf8')).toMatch(/^d=\/run\/forge-grub-probe-\w+$/m);
    // The real tool beside it is a copy (never a bind of the target's file: see the module's note).
    expect(readFileSync(join(memoPath, '..', 'grub-probe'), 'utf8')).toBe('elf');
    await stack.dispose();
    const cmds = runner.calls.map((a) => a.join(' ').replace(/forge-grub-probe-\w+/g, 'M').replaceAll(root, 'T').replaceAll(parent, 'P'));
    expect(cmds).toEqual([
      'mount --bind P/M/memo T/usr/sbin/grub-probe',
      'umount T/usr/sbin/grub-probe',
    ]);
    expect(execFileSync('ls', ['-A', parent], { encoding: 'utf8' })).toBe('mounts\n');
    // A noexec /run (systemd's on an installed Debian): no memo, GRUB runs as it is.
    writeFileSync(mounts, `/dev/vda1 / ext4 rw 0 0\ntmpfs ${parent} tmpfs rw,nosuid,nodev,noexec 0 0\n`);
    expect(await memoizeGrubProbe(ctx, new MountStack(ctx), root, parent, mounts)).toEqual([]);
  });

  it('reads the options of the deepest mount holding a path, the topmost of a stacked point', () => {
    const text = ['/dev/vda1 / ext4 rw,relatime 0 0', 'tmpfs /run tmpfs rw,nosuid,noexec 0 0', 'tmpfs /run tmpfs rw,nosuid 0 0', 'tmpfs /run/lock tmpfs rw,noexec 0 0', 'x /my\\040dir ext4 ro 0 0'].join('\n');
    expect(mountOptionsAt(text, '/run')).toEqual(['rw', 'nosuid']);
    expect(mountOptionsAt(text, '/run/forge-x')).toEqual(['rw', 'nosuid']);
    expect(mountOptionsAt(text, '/run/lock/y')).toEqual(['rw', 'noexec']);
    expect(mountOptionsAt(text, '/runner')).toEqual(['rw', 'relatime']);
    expect(mountOptionsAt(text, '/my dir/z')).toEqual(['ro']);
  });
});
