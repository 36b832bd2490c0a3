import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../core/runner.js';
import type { PlannedFs } from '../plan/types.js';
import { fstabEntries, renderFstab } from './fstab.js';
import { assertInsideTarget, targetPath } from './target-path.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('targetPath: a mount point never leaves the target root', () => {
  it.each(['/', '/boot', '/var/lib/glance', '/a/./b'])('%s stays inside', (m) => {
    expect(targetPath('/tmp/t', m).startsWith('/tmp/t')).toBe(true);
  });
  it.each(['/../../../../etc', '/boot/../../x', 'relative', '/..'])('%s is refused', (m) => {
    expect(() => targetPath('/tmp/t', m)).toThrow(expect.objectContaining({ code: 'PLAN_INVALID' }));
  });
  it('a symlink in the image that points outside is refused after mkdir', async () => {
    const root = await mkdtemp(join(tmpdir(), 'forge-tp-'));
    dirs.push(root);
    await symlink('/etc', join(root, 'srv'));
    await mkdir(join(root, 'boot'));
    await expect(assertInsideTarget(root, join(root, 'srv'), '/srv')).rejects.toMatchObject({ code: 'MOUNT_FAILED' });
    await expect(assertInsideTarget(root, join(root, 'boot'), '/boot')).resolves.toBeUndefined();
  });
});

describe('fstab escaping, read back by libmount (findmnt)', () => {
  const fs = (device: string, mount: string): PlannedFs => ({
    device, mount, type: 'ext4', mkfsOptions: [], mountOptions: 'defaults', fromImage: false, keepData: false,
  });
  it('a space, tab, newline or backslash in a mount point stays one entry with the same path', async () => {
    const mounts = ['/', '/srv/with space', '/srv/tab\there', '/srv/new\nline', '/srv/back\\slash'];
    const fss = mounts.map((m, i) => fs(`/dev/vda${i + 1}`, m));
    const uuids = new Map(fss.map((f, i) => [f.device, `0000000${i}-1111-2222-3333-444444444444`]));
    const text = renderFstab(fstabEntries(fss, uuids));
    const root = await mkdtemp(join(tmpdir(), 'forge-fstab-'));
    dirs.push(root);
    const file = join(root, 'fstab');
    await writeFile(file, text);
    const r = await new ExecaRunner().run(['findmnt', '--fstab', '--tab-file', file, '--json', '--output', 'SOURCE,TARGET'], { readOnly: true });
    const got = (JSON.parse(r.stdout) as { filesystems: { source: string; target: string }[] }).filesystems;
    expect(got.map((f) => f.target).sort()).toEqual([...mounts].sort());
    expect(got.every((f) => f.source.startsWith('UUID=') || f.source.startsWith('/dev/disk/by-uuid/'))).toBe(true);
  });
});
