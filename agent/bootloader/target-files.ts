// Files the bootloader step writes into the target besides fstab (pure renderers):
// cloud-init's datasource list and GRUB's defaults.

/** cloud-init looks only at the configdrive we wrote (ConfigDrive, or NoCloud when it is read as a seed). */
export const CLOUD_DATASOURCE_FILE = 'etc/cloud/cloud.cfg.d/99_fuel_forge_datasource.cfg';

export function cloudDatasourceCfg(): string {
  return [
    '# written by fuel-forge: first boot is configured from the configdrive only',
    'datasource_list: [ ConfigDrive, NoCloud ]',
    'datasource:',
    '  ConfigDrive:',
    '    dsmode: local',
    '',
  ].join('\n');
}

const MANAGED = [
  'GRUB_CMDLINE_LINUX',
  'GRUB_DISABLE_LINUX_UUID',
  'GRUB_DISABLE_OS_PROBER',
  'GRUB_TERMINAL',
  'GRUB_SERIAL_COMMAND',
];

function shellQuote(v: string): string {
  return `"${v.replace(/(["\\$`])/g, '\\$1')}"`;
}

/**
 * Where our GRUB settings also go: grub-mkconfig sources /etc/default/grub, then
 * every /etc/default/grub.d/*.cfg in glob order, so an image's own drop-in (cloud
 * images ship one setting GRUB_CMDLINE_LINUX) would silently replace the plan's
 * kernel parameters. A drop-in that sorts after the digits and letters wins.
 */
export const GRUB_DROPIN_FILE = 'etc/default/grub.d/zz-fuel-forge.cfg';

/** Our settings as shell assignments: kernel parameters, root by UUID, no os-prober, serial terminal. */
export function grubSettings(kernelParams: string): string[] {
  const ours = [
    `GRUB_CMDLINE_LINUX=${shellQuote(kernelParams)}`,
    'GRUB_DISABLE_LINUX_UUID=false',
    'GRUB_DISABLE_OS_PROBER=true',
  ];
  // The lab and most BMCs read the serial console: give GRUB's menu to it too.
  const serial = /(?:^|\s)console=ttyS(\d+)(?:,(\d+))?/.exec(kernelParams);
  if (serial) {
    ours.push('GRUB_TERMINAL="console serial"');
    ours.push(`GRUB_SERIAL_COMMAND="serial --unit=${serial[1]} --speed=${serial[2] ?? '115200'}"`);
  }
  return ours;
}

/** /etc/default/grub with the keys we manage replaced by our settings; the rest kept. */
export function grubDefaults(existing: string, kernelParams: string): string {
  const kept = existing.split('\n').filter((l) => !MANAGED.some((k) => new RegExp(`^\\s*${k}=`).test(l)));
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  return [...kept, '# fuel-forge', ...grubSettings(kernelParams), ''].join('\n');
}

/** The drop-in that makes our settings final over any drop-in the image carries. */
export function grubDropIn(kernelParams: string): string {
  return ['# written by fuel-forge: sourced last, so the plan\'s kernel parameters win', ...grubSettings(kernelParams), ''].join('\n');
}

/**
 * Debian 12's lvm2 activates volume groups only from udev events. The initramfs
 * sees every PV, marks each complete VG "online" in /run/lvm, and activates it —
 * but udevd is stopped at the hand-over to the real root, and a VG whose
 * activation was still queued stays inactive: the real system's pvscan finds it
 * already "online" and skips it, and a mount on it times out into emergency mode
 * (seen in the lab, at random, with a data VG beside the root VG). This unit
 * activates the plan's VGs before local filesystems are mounted, whatever the
 * image's initramfs did.
 */
export const LVM_ACTIVATE_UNIT = 'etc/systemd/system/fuel-forge-lvm-activate.service';
export const LVM_ACTIVATE_WANTS = 'etc/systemd/system/local-fs-pre.target.wants/fuel-forge-lvm-activate.service';

export function lvmActivateUnit(vgNames: readonly string[]): string {
  return [
    '# written by fuel-forge: activate the provisioned volume groups at every boot',
    '[Unit]',
    'Description=Activate the LVM volume groups provisioned by fuel-forge',
    'DefaultDependencies=no',
    'After=systemd-udev-trigger.service',
    'Before=local-fs-pre.target shutdown.target',
    'Wants=local-fs-pre.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // Let the coldplug events (PVs appearing) finish first; never block the boot on it.
    'ExecStartPre=-/bin/udevadm settle --timeout=30',
    `ExecStart=/sbin/lvm vgchange --activate ay --sysinit ${vgNames.join(' ')}`,
    '',
    '[Install]',
    'WantedBy=local-fs-pre.target',
    '',
  ].join('\n');
}
