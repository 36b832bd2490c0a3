// Secure Boot refuses an unsigned loader, and the lab says so (issue 17). The oracle
// is the firmware itself (OVMF's Secure Boot build with Microsoft's keys, as Debian
// ships it) and shim: the test swaps a signed link of the boot chain for an
// unsigned one on an otherwise identical ESP. The same loaders boot with Secure
// Boot off, so the refusal is the policy, not a broken file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../agent/core/runner.js';
import { secureBootRefusal, type RefusedBy } from './vm/boot-refusal.js';
import { makeEspDisk, type EspFile } from './vm/esp-disk.js';
import { startVm, type StartedVm } from './vm/qemu.js';
import { pollUntil } from './vm/wait.js';

const runner = new ExecaRunner();
const SIGNED_SHIM = '/usr/lib/shim/shimx64.efi.signed';
/** The same shim before Microsoft signed it (shim-unsigned, a dependency of shim-signed's build). */
const UNSIGNED_SHIM = '/usr/lib/shim/shimx64.efi';
const SIGNED_GRUB = '/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed';
const MARK = 'fuel-forge: GRUB ran from the ESP';

let dir = '';
const vms: StartedVm[] = [];
let cfg = '';
let unsignedGrub = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-sb-'));
  cfg = join(dir, 'grub.cfg');
  writeFileSync(cfg, `echo "${MARK}"\nsleep 600\n`);
  // An unsigned GRUB as an operator's own build would be: the same modules, nobody's signature.
  unsignedGrub = join(dir, 'grubx64-unsigned.efi');
  await runner.run(['grub-mkimage', '-O', 'x86_64-efi', '-o', unsignedGrub, '-p', '/EFI/BOOT', 'part_gpt', 'fat', 'normal', 'echo', 'sleep', 'configfile']);
}, 60_000);

afterAll(async () => {
  for (const vm of vms) await vm.dispose().catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The ESP of a signed chain, with `swap` replacing one of its files. */
function esp(swap: Partial<Record<'BOOTX64.EFI' | 'grubx64.efi', string>> = {}): EspFile[] {
  const files: Record<string, string> = { 'BOOTX64.EFI': SIGNED_SHIM, 'grubx64.efi': SIGNED_GRUB, ...swap };
  return [
    ...Object.entries(files).map(([name, from]) => ({ path: `EFI/BOOT/${name}`, from })),
    // Debian's signed GRUB reads its config next to itself or under /EFI/debian.
    { path: 'EFI/BOOT/grub.cfg', from: cfg },
    { path: 'EFI/debian/grub.cfg', from: cfg },
  ];
}

type Outcome = { ran: true } | { ran: false; by: RefusedBy; line: string };

/** Boots the disk on OVMF and reports whether GRUB ran or who refused what. */
async function boot(name: string, files: EspFile[], secureBoot: boolean): Promise<Outcome> {
  const disk = await makeEspDisk(runner, dir, name, files);
  const vm = await startVm(
    { name, memMiB: 512, cpus: 1, disks: [{ sizeMiB: 64, file: disk }], nics: [], boot: { kind: 'disk' }, firmware: 'uefi', secureBoot },
    { runner, dir: join(dir, `vm-${name}`) },
  );
  vms.push(vm);
  try {
    return await pollUntil(
      `${name}: GRUB's mark or a Secure Boot refusal on the console`,
      async () => {
        const text = vm.serialText();
        if (text.includes(MARK)) return { ran: true } as const;
        const r = secureBootRefusal(text);
        return r ? ({ ran: false, ...r } as const) : undefined;
      },
      { timeoutMs: 4 * 60_000, pollMs: 1000, failWhen: () => vm.exited() },
    );
  } catch (e) {
    if (e instanceof Error) e.message += `\n--- ${name} console ---\n${vm.serialText().slice(-2000)}`;
    throw e;
  } finally {
    await vm.stop();
  }
}

describe('Secure Boot: a swapped, unsigned loader is refused and the lab names who refused it', () => {
  it('signed chain boots; unsigned shim is refused by the firmware, unsigned GRUB by shim; both run with Secure Boot off', async () => {
    const [signed, badShim, badGrub, badShimOff, badGrubOff] = await Promise.all([
      boot('sb-signed', esp(), true),
      boot('sb-unsigned-shim', esp({ 'BOOTX64.EFI': UNSIGNED_SHIM }), true),
      boot('sb-unsigned-grub', esp({ 'grubx64.efi': unsignedGrub }), true),
      // Control: the same files without Secure Boot. The unsigned shim still needs a
      // trusted GRUB (Debian's, which its built-in certificate trusts): it runs.
      boot('nosb-unsigned-shim', esp({ 'BOOTX64.EFI': UNSIGNED_SHIM }), false),
      boot('nosb-unsigned-grub', esp({ 'grubx64.efi': unsignedGrub }), false),
    ]);
    process.stdout.write(`secure boot outcomes: ${JSON.stringify({ signed, badShim, badGrub, badShimOff, badGrubOff })}\n`);
    expect(signed).toEqual({ ran: true });
    expect(badShim).toMatchObject({ ran: false, by: 'firmware' });
    expect(badGrub).toMatchObject({ ran: false, by: 'shim' });
    expect(badShimOff).toEqual({ ran: true });
    expect(badGrubOff).toEqual({ ran: true });
  }, 10 * 60_000);
});
