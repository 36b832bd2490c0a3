// GPT type GUIDs for the plan's flags. An explicit GUID from the data wins; the
// executor writes these and verify expects exactly the same, so both use this.
import type { PlannedPartition } from '../plan/types.js';

export const TYPE_GUID = {
  biosBoot: '21686148-6449-6E6F-744E-656564454649', // EF02
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', // EF00
  linuxRaid: 'A19D880F-05FC-4D3B-A006-743F0F84911E', // FD00
  linuxLvm: 'E6D6D379-F507-44C2-A23C-238F2A3DF928', // 8E00
  linuxFs: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', // 8300
} as const;

export function typeGuidFor(p: Pick<PlannedPartition, 'flags' | 'guid'>): string {
  if (p.guid) return p.guid.toUpperCase();
  if (p.flags.includes('esp')) return TYPE_GUID.esp;
  if (p.flags.includes('bios_grub')) return TYPE_GUID.biosBoot;
  if (p.flags.includes('raid')) return TYPE_GUID.linuxRaid;
  if (p.flags.includes('lvm')) return TYPE_GUID.linuxLvm;
  return TYPE_GUID.linuxFs;
}

/** The `boot` flag is GPT's legacy-BIOS-bootable attribute (bit 2); the ESP has its own type. */
export function wantsLegacyBoot(p: Pick<PlannedPartition, 'flags'>): boolean {
  return p.flags.includes('boot') && !p.flags.includes('esp');
}
