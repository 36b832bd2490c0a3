import { describe, expect, it } from 'vitest';
import { describeRefusal, secureBootRefusal } from './boot-refusal.js';

describe('secureBootRefusal', () => {
  it("finds OVMF's refusal inside its escape-coded screen output", () => {
    const text = '\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0)\r\n' +
      '\x1b[0m\x1b[37m\x1b[40mBdsDxe: failed to load Boot0001 "UEFI Misc Device" from PciRoot(0x0)/Pci(0x3,0x0): Access Denied\r\n';
    const r = secureBootRefusal(text);
    expect(r?.by).toBe('firmware');
    expect(r?.line).toMatch(/^BdsDxe: failed to load Boot0001 .*: Access Denied$/);
    expect(describeRefusal(r!)).toContain('the firmware (Secure Boot) refused');
  });

  it("names shim when shim refuses its second stage, and GRUB when GRUB's verifier does", () => {
    // As shim prints it on OVMF's serial console: inside a box of code-page characters.
    expect(secureBootRefusal('\x1b[37m\xb3                Verification failed: (0x1A) Security Violation                \xb3\r\n')).toEqual({
      by: 'shim',
      line: 'Verification failed: (0x1A) Security Violation',
    });
    expect(secureBootRefusal('error: bad shim signature.\n')?.by).toBe('grub');
    expect(secureBootRefusal('error: prohibited by secure boot policy.\n')?.by).toBe('grub');
  });

  it('says nothing about a console that booted, or one that merely mentions Secure Boot', () => {
    const booted = 'BdsDxe: loading Boot0001 "UEFI Misc Device"\r\nBdsDxe: starting Boot0001\r\nLinux version 6.1.0\r\n' +
      'Kernel is locked down from EFI Secure Boot mode; see man kernel_lockdown.7\r\nsecureboot: Secure boot enabled\r\n';
    expect(secureBootRefusal(booted)).toBeUndefined();
    expect(secureBootRefusal('')).toBeUndefined();
  });
});
