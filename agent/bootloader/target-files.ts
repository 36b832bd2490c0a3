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
 * /etc/default/grub with our settings: the plan's kernel parameters, root by UUID,
 * no os-prober (it would scan the other disks), and a serial terminal when the
 * kernel logs to one (the lab and most BMCs read the serial console).
 */
export function grubDefaults(existing: string, kernelParams: string): string {
  const kept = existing.split('\n').filter((l) => !MANAGED.some((k) => new RegExp(`^\\s*${k}=`).test(l)));
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const ours = [
    '# fuel-forge',
    `GRUB_CMDLINE_LINUX=${shellQuote(kernelParams)}`,
    'GRUB_DISABLE_LINUX_UUID=false',
    'GRUB_DISABLE_OS_PROBER=true',
  ];
  const serial = /(?:^|\s)console=ttyS(\d+)(?:,(\d+))?/.exec(kernelParams);
  if (serial) {
    ours.push('GRUB_TERMINAL="console serial"');
    ours.push(`GRUB_SERIAL_COMMAND="serial --unit=${serial[1]} --speed=${serial[2] ?? '115200'}"`);
  }
  return [...kept, ...ours, ''].join('\n');
}
