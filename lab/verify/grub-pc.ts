// On a booted node: where Debian's grub-pc would reinstall GRUB when it is upgraded.
// Asked of the node itself: debconf's own reader for grub-pc's answer, the node's udev
// for what each named link is, and the disk's serial as the kernel reports it — compared
// with the serials the lab gave the VM's boot disks, not with anything the agent wrote.
import { installDevicesOf, parseDebconfShow } from '../../agent/bootloader/grub-pc-devices.js';
import type { RunResult } from '../../agent/core/runner.js';
import type { Check } from './first-boot.js';

export const GRUB_PC_CHECK = 'grub-pc: an upgrade reinstalls GRUB on every boot disk (debconf install_devices)';

/**
 * `onNode` runs argv on the node (ssh). `bootSerials`: the serials of the disks the
 * plan puts GRUB on, as the lab configured the VM.
 */
export async function grubPcDevicesCheck(onNode: (argv: string[]) => Promise<RunResult>, bootSerials: readonly string[]): Promise<Check> {
  const fail = (detail: string): Check => ({ name: GRUB_PC_CHECK, ok: false, detail });
  const show = await onNode(['debconf-show', 'grub-pc']);
  if (show.exitCode !== 0) return fail(`debconf-show grub-pc: exit ${show.exitCode}: ${show.stderr.trim().slice(-300)}`);
  const answers = parseDebconfShow(show.stdout);
  const devices = installDevicesOf(answers['grub-pc/install_devices'] ?? '');
  if (!devices.length) return fail(`install_devices is empty (install_devices_empty: ${answers['grub-pc/install_devices_empty'] ?? 'unset'})`);
  // The serial of whatever each name is now; a name that is gone has none.
  const lsblk = await onNode(['lsblk', '--nodeps', '--noheadings', '--output', 'SERIAL', ...devices]);
  const serials = lsblk.exitCode === 0 ? lsblk.stdout.split('\n').map((s) => s.trim()).filter(Boolean) : [];
  const detail = `${devices.join(', ')} → serials ${serials.join(', ') || `none (lsblk exit ${lsblk.exitCode}: ${lsblk.stderr.trim().slice(-200)})`}`;
  const want = [...bootSerials].sort();
  const got = [...serials].sort();
  const ok = serials.length === devices.length && got.length === want.length && got.every((s, i) => s === want[i]);
  return ok ? { name: GRUB_PC_CHECK, ok: true, detail } : fail(`${detail}; want the boot disks ${want.join(', ')}`);
}

/** The serials of the plan's BIOS boot disks, as the bootstrap's inventory reported them (empty: no BIOS disk, or one without a serial). */
export function bootDiskSerials(bootDisks: readonly string[], inventory: { disks: readonly { path: string; serial?: string }[] } | undefined): string[] {
  const serials = bootDisks.map((d) => inventory?.disks.find((x) => x.path === d)?.serial);
  return serials.every((s): s is string => Boolean(s)) ? serials : [];
}

