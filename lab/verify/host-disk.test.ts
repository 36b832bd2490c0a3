// The ESP check reads a FAT filesystem made by mkfs.vfat (dosfstools) inside a raw
// disk file, at a partition offset, as the host does with a node's disk.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import { espBootFiles } from './host-disk.js';

const runner = new ExecaRunner();
const work = mkdtempSync(join(tmpdir(), 'forge-hostesp-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('host-side ESP check', () => {
  it('lists EFI/BOOT from a FAT filesystem 1 MiB into a raw disk', async () => {
    const fat = join(work, 'esp.img');
    const raw = join(work, 'disk.raw');
    await runner.run(['truncate', '-s', '34M', fat]);
    await runner.run(['mkfs.vfat', '-F', '32', fat]);
    await runner.run(['mmd', '-i', fat, '::/EFI', '::/EFI/BOOT']);
    await runner.run(['mcopy', '-i', fat, '/etc/hostname', '::/EFI/BOOT/BOOTX64.EFI']);
    await runner.run(['mcopy', '-i', fat, '/etc/hostname', '::/EFI/BOOT/grubx64.efi']);
    // The FAT filesystem placed at 1 MiB of a bigger disk, as partition 1 of a GPT disk would be.
    await runner.run(['truncate', '-s', '40M', raw]);
    await runner.run(['dd', `if=${fat}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
    const files = await espBootFiles(runner, raw, { node: 'disk1', start: 2048, size: 69632, type: 'x' }, 512);
    expect(files).toEqual(expect.arrayContaining(['/EFI/BOOT/BOOTX64.EFI', '/EFI/BOOT/grubx64.efi']));
    // At the wrong offset there is no FAT: nothing listed.
    expect(await espBootFiles(runner, raw, { node: 'disk1', start: 4096, size: 100, type: 'x' }, 512)).toEqual([]);
  });
});
