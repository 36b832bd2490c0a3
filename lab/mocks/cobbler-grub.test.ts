import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ANY_EXIT, ExecaRunner } from '../../agent/core/runner.js';
import { grubWord, installUefiLoaders, renderGrubTop, renderSystemGrub, UEFI_BOOT_FILE, UEFI_GRUB_FILE, writeSystemGrubs } from './cobbler-grub.js';

const runner = new ExecaRunner();
const work = mkdtempSync(join(tmpdir(), 'forge-cgrub-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** GRUB's own parser (grub-script-check, grub2-common): exit 0 = a script GRUB can run. */
async function grubParses(text: string): Promise<{ ok: boolean; err: string }> {
  const f = join(work, `cfg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, text);
  const r = await runner.run(['grub-script-check', f], { okExitCodes: ANY_EXIT });
  return { ok: r.exitCode === 0, err: r.stderr };
}

describe('mock Cobbler\'s GRUB network boot files', () => {
  const sys = { name: 'node-1', profile: 'bootstrap', netbootEnabled: true };

  it('per MAC: the profile\'s kernel and initrd over TFTP with the command line, or the disk\'s removable path when netboot is off; GRUB parses both', async () => {
    const on = renderSystemGrub(sys, { kernel: 'vmlinuz', initrd: 'initrd.img' }, 'console=ttyS0 url=http://10.97.0.1:8000/x boot=$weird;rm');
    expect(on).toContain("linux (tftp)/images/bootstrap/vmlinuz console=ttyS0 url=http://10.97.0.1:8000/x 'boot=$weird;rm'");
    expect(on).toContain('initrd (tftp)/images/bootstrap/initrd.img');
    const off = renderSystemGrub({ ...sys, netbootEnabled: false }, { kernel: 'vmlinuz' }, 'x');
    expect(off.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'search --no-floppy --set=root --file /EFI/BOOT/BOOTX64.EFI', 'chainloader ($root)/EFI/BOOT/BOOTX64.EFI', 'boot',
    ]);
    for (const t of [on, off, renderGrubTop()]) expect(await grubParses(t)).toMatchObject({ ok: true });
    // The oracle can fail: an unterminated quote.
    expect((await grubParses('linux (tftp)/k a=\'b\n')).ok).toBe(false);
  });

  it('quotes anything beyond plain characters, single quotes included', async () => {
    expect(grubWord('console=ttyS0,115200n8')).toBe('console=ttyS0,115200n8');
    expect(grubWord("it's $x")).toBe("'it'\\''s $x'");
    expect(await grubParses(`echo ${grubWord("it's $x; {y}")}\n`)).toMatchObject({ ok: true });
  });

  it('installs shim, the signed GRUB and the top config; one file per MAC under grub/system, stale ones removed', () => {
    const root = join(work, 'tftp');
    const shim = join(work, 'shim.efi');
    const grub = join(work, 'grub.efi');
    writeFileSync(shim, 'shim');
    writeFileSync(grub, 'grub');
    installUefiLoaders(root, { shim, grub });
    expect(readFileSync(join(root, UEFI_BOOT_FILE), 'utf8')).toBe('shim');
    expect(readFileSync(join(root, UEFI_GRUB_FILE), 'utf8')).toBe('grub');
    expect(readFileSync(join(root, 'grub', 'grub.cfg'), 'utf8')).toContain('source "$prefix/system/$net_default_mac"');
    writeSystemGrubs(root, new Map([['52:54:00:AA:00:01', 'a\n']]));
    writeSystemGrubs(root, new Map([['52:54:00:aa:00:02', 'b\n']]));
    expect(() => readFileSync(join(root, 'grub', 'system', '52:54:00:aa:00:01'))).toThrow();
    expect(readFileSync(join(root, 'grub', 'system', '52:54:00:aa:00:02'), 'utf8')).toBe('b\n');
    expect(() => installUefiLoaders(join(work, 'x'), { shim: '/nonexistent/shim', grub })).toThrow(/shim-signed/);
  });
});
