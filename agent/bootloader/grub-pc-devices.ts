// Where Debian's grub-pc reinstalls GRUB when the package is upgraded: its debconf
// question grub-pc/install_devices. The agent installs GRUB on every BIOS boot disk;
// left alone, the question is answered on first boot by cloud-init's grub_dpkg module
// with the one disk it finds under /boot (or the RAID device /boot is on), so a later
// `apt upgrade` would refresh the boot code of one disk only and leave the others'
// core.img out of step with the new modules in /boot/grub. So the agent records every
// disk it installed GRUB on, by the /dev/disk/by-id name grub-pc itself would pick,
// and turns cloud-init's module off.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../core/errors.js';

/** cloud-init drop-in that keeps grub_dpkg from replacing the agent's answer on first boot. */
export const GRUB_DPKG_CLOUD_FILE = 'etc/cloud/cloud.cfg.d/99_fuel_forge_grub_dpkg.cfg';

export function grubDpkgCloudCfg(): string {
  return [
    '# written by fuel-forge: grub-pc/install_devices already names every disk GRUB was',
    '# installed on; cloud-init would replace it with the one disk holding /boot',
    'grub_dpkg:',
    '  enabled: false',
    '',
  ].join('\n');
}

/** The target has grub-pc's maintainer scripts (the package that asks the question). */
export const hasGrubPc = (root: string): boolean => existsSync(join(root, 'var/lib/dpkg/info/grub-pc.postinst'));

/**
 * The /dev/disk/by-id name grub-pc's postinst gives `disk` (its device_to_id: the
 * first link in glob order that resolves to the disk), or undefined when none does.
 */
export function diskIdOf(disk: string, byIdDir = '/dev/disk/by-id'): string | undefined {
  let target: string;
  let names: string[];
  try {
    target = realpathSync(disk);
    names = readdirSync(byIdDir).sort();
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      if (realpathSync(join(byIdDir, n)) === target) return join(byIdDir, n);
    } catch {
      // A dangling link: not this disk.
    }
  }
  return undefined;
}

/** debconf-set-selections input: the disks as grub-pc's multiselect answer. */
export function grubPcSelections(devices: readonly string[]): string {
  if (!devices.length) throw new ForgeError('BOOTLOADER_FAILED', 'grub-pc/install_devices: no boot disk to name');
  for (const d of devices) {
    // A multiselect answer is split on ", ": a name holding one would become two answers.
    if (!/^\/dev\/[A-Za-z0-9._:@+#=\-/]+$/.test(d)) throw new ForgeError('BOOTLOADER_FAILED', `grub-pc/install_devices: not a device path grub-pc can list: ${JSON.stringify(d)}`, { details: { device: d } });
  }
  return [
    `grub-pc grub-pc/install_devices multiselect ${devices.join(', ')}`,
    'grub-pc grub-pc/install_devices_empty boolean false',
    '',
  ].join('\n');
}

/** `debconf-show PACKAGE` output → question → value (the leading `*` marks a seen question). */
export function parseDebconfShow(out: string): Record<string, string> {
  const answers: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^[* ] ([^:\s]+):(?: (.*))?$/.exec(line);
    if (m) answers[m[1] as string] = m[2] ?? '';
  }
  return answers;
}

/** grub-pc's multiselect answer as its postinst reads it: split on blanks, each trailing comma dropped. */
export const installDevicesOf = (answer: string): string[] => answer.split(/\s+/).map((d) => d.replace(/,$/, '')).filter(Boolean);
