// GRUB 2 argv lives here only (grub-install, grub-mkconfig), always run inside
// the target through chroot so the target's own GRUB version and modules are used.
export function grubInstallBiosArgv(disk: string): string[] {
  return ['grub-install', '--target=i386-pc', '--no-floppy', disk];
}

/**
 * UEFI: the removable fallback path (EFI/BOOT/BOOTX64.EFI) always works even when
 * firmware resets NVRAM; no NVRAM entry, so PXE stays first for the orchestrator.
 */
export function grubInstallEfiArgv(efiDir = '/boot/efi'): string[] {
  return ['grub-install', '--target=x86_64-efi', `--efi-directory=${efiDir}`, '--removable', '--no-nvram', '--bootloader-id=debian'];
}

export function grubMkconfigArgv(output = '/boot/grub/grub.cfg'): string[] {
  return ['grub-mkconfig', '-o', output];
}

