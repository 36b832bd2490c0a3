// GPT type GUIDs for the plan's flags. An explicit GUID from the data wins; the
// executor writes these and verify expects exactly the same, so both use this.
import { GUID } from './guids.js';
import type { PlannedPartition } from './types.js';

export const TYPE_GUID = {
  biosBoot: GUID.biosGrub, // EF02
  esp: GUID.esp, // EF00
  linuxRaid: GUID.raid, // FD00
  linuxLvm: GUID.lvm, // 8E00
  linuxFs: GUID.linux, // 8300
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
