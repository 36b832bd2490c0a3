// GRUB 2 argv lives here only (grub-install, grub-mkconfig), always run inside
// the target through chroot so the target's own GRUB version and modules are used.
export function grubInstallBiosArgv(disk: string): string[] {
  return ['grub-install', '--target=i386-pc', '--no-floppy', disk];
}

/**
 * UEFI: the removable fallback path (EFI/BOOT/BOOTX64.EFI) always works even when
 * firmware resets NVRAM; no NVRAM entry, so PXE stays first for the orchestrator.
 * `signed`: the target carries Debian's shim-signed and grub-efi-amd64-signed, so
 * BOOTX64.EFI is shim (signed by Microsoft) with the signed GRUB beside it and a
 * Secure Boot node boots; without them GRUB is built on the spot, unsigned.
 */
export function grubInstallEfiArgv(efiDir = '/boot/efi', signed = false): string[] {
  return [
    'grub-install', '--target=x86_64-efi', `--efi-directory=${efiDir}`, '--removable', '--no-nvram', '--bootloader-id=debian',
    signed ? '--uefi-secure-boot' : '--no-uefi-secure-boot',
  ];
}

/** Where Debian's signed EFI loaders live in a target (shim-signed, grub-efi-amd64-signed). */
export const SIGNED_EFI_LOADERS = ['usr/lib/shim/shimx64.efi.signed', 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed'] as const;

export function grubMkconfigArgv(output = '/boot/grub/grub.cfg'): string[] {
  return ['grub-mkconfig', '-o', output];
}

