// Cobbler's UEFI network boot in its TFTP root: shim and the signed GRUB at the
// root (shim fetches grubx64.efi from the root when the DHCP reply carries the boot
// file in option 67 only, as dnsmasq's does — seen in its TFTP log), GRUB's own
// config grub/grub.cfg (the signed image's prefix is (tftp,<server>)/grub) that sources the
// per-MAC file grub/system/<mac>, and each profile's kernel and initrd under
// images/<profile>/ (GRUB's signed network image has no HTTP: they come over TFTP).
// The chain is Debian's signed one end to end — shim (signed by Microsoft) →
// grubnetx64 (signed by Debian, its prefix is (tftp,<server>)/grub) → Debian's
// signed kernel → our ramdisk — so a Secure Boot node boots it unchanged.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';

/** Debian's signed binaries (shim-signed, grub-efi-amd64-signed). */
export const UEFI_LOADERS = {
  shim: '/usr/lib/shim/shimx64.efi.signed',
  grub: '/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed',
} as const;

/** The DHCP boot file for UEFI clients, relative to the TFTP root; shim loads grubx64.efi from the root. */
export const UEFI_BOOT_FILE = 'shimx64.efi';
export const UEFI_GRUB_FILE = 'grubx64.efi';

/** GRUB's words: anything beyond plain characters is single-quoted, so `$`, `;` or quotes in an option stay literal. */
export function grubWord(w: string): string {
  return /^[A-Za-z0-9_./:=,@+%-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;
}

/**
 * The local disk from GRUB: its removable boot path chainloaded. GRUB's `exit` hands
 * control back to the firmware, but OVMF (as the UEFI spec allows) then shows its
 * boot menu instead of trying the next boot entry — seen, with `exit 1` too — so a
 * node with netboot off would never reach its disk. Under Secure Boot the chainloaded
 * loader must be signed (shim), which is what the lab's Secure Boot check relies on.
 */
const LOCAL_DISK = [
  'search --no-floppy --set=root --file /EFI/BOOT/BOOTX64.EFI',
  'chainloader ($root)/EFI/BOOT/BOOTX64.EFI',
  'boot',
];

/**
 * grub/grub.cfg: the MAC's own file when Cobbler wrote one (it boots the profile or
 * the disk), else the local disk. `[ -f ]` cannot see files over TFTP (it lists a directory,
 * which TFTP has not: seen, GRUB never asked for the file), so the file is simply
 * sourced; a missing one is an error GRUB reports and goes on from.
 */
export function renderGrubTop(): string {
  return [
    '# fuel-forge mock Cobbler: one file per MAC under $prefix/system/',
    'set timeout=0',
    'source "$prefix/system/$net_default_mac"',
    'echo "fuel-forge: no system for $net_default_mac, booting local disk"',
    ...LOCAL_DISK,
    '',
  ].join('\n');
}

/**
 * grub/system/<mac>: the profile's kernel and initrd over TFTP with the system's
 * command line, or, with netboot off, the local disk (see LOCAL_DISK).
 */
export function renderSystemGrub(sys: { name: string; profile: string; netbootEnabled: boolean }, profile: { kernel?: string; initrd?: string } | undefined, append: string): string {
  if (!sys.netbootEnabled || !profile) return [`# ${sys.name}: netboot disabled, boot the local disk`, ...LOCAL_DISK, ''].join('\n');
  const dir = `(tftp)/images/${sys.profile}`;
  const [kernel, initrd] = [profile.kernel ?? 'vmlinuz', profile.initrd ?? 'initrd.img'];
  const args = append.split(/\s+/).filter(Boolean).map(grubWord).join(' ');
  return [
    `# ${sys.name}: profile ${sys.profile}`,
    `echo ${grubWord(`fuel-forge: ${sys.name}, profile ${sys.profile}`)}`,
    `linux ${dir}/${kernel} ${args}`.trimEnd(),
    `initrd ${dir}/${initrd}`,
    'boot',
    '',
  ].join('\n');
}

/** Puts shim, GRUB and GRUB's config in the TFTP root (Cobbler's bootloader install). */
export function installUefiLoaders(tftpRoot: string, loaders: { shim: string; grub: string } = UEFI_LOADERS): void {
  for (const [what, f] of Object.entries(loaders)) {
    if (!existsSync(f)) throw new ForgeError('LAB_FAILED', `mock Cobbler: ${f} (${what}) is missing: install shim-signed and grub-efi-amd64-signed (bash ci/setup)`);
  }
  mkdirSync(join(tftpRoot, 'grub', 'system'), { recursive: true });
  copyFileSync(loaders.shim, join(tftpRoot, UEFI_BOOT_FILE));
  copyFileSync(loaders.grub, join(tftpRoot, UEFI_GRUB_FILE));
  writeFileSync(join(tftpRoot, 'grub', 'grub.cfg'), renderGrubTop());
}

/** images/<profile>/: the profile's kernel and initrd, copied when missing or changed (Cobbler's sync copies distros there). */
export function syncTftpImages(tftpRoot: string, name: string, profile: { dir: string; kernel?: string; initrd?: string }): void {
  const to = join(tftpRoot, 'images', name);
  mkdirSync(to, { recursive: true });
  for (const f of [profile.kernel ?? 'vmlinuz', profile.initrd ?? 'initrd.img']) {
    const src = join(profile.dir, f);
    if (!existsSync(src)) continue;
    const dst = join(to, f);
    const a = statSync(src);
    const b = existsSync(dst) ? statSync(dst) : undefined;
    if (!b || b.size !== a.size || b.mtimeMs < a.mtimeMs) copyFileSync(src, dst);
  }
}

/** grub/system/: one file per MAC of every system (colon-separated, lower case: GRUB's $net_default_mac). */
export function writeSystemGrubs(tftpRoot: string, files: ReadonlyMap<string, string>): void {
  const dir = join(tftpRoot, 'grub', 'system');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { force: true });
  for (const [mac, text] of files) writeFileSync(join(dir, mac.toLowerCase()), text);
}
