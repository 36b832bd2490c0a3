// Package sets of the OS images. `tiny` is the smallest image that still boots Fuel's
// layouts (LVM root, MD /boot), gets DHCP and runs cloud-init (disk tests); `deploy`
// adds what a provisioned node needs before Fuel's deployment can start on it
// (mcollective, puppet, rsync: the lab's nodes); `full` adds admin tools on top.

export type ImageProfile = 'full' | 'deploy' | 'tiny';

const TINY: readonly string[] = [
  'linux-image-amd64',
  // BIOS and EFI GRUB modules; grub-pc adds /etc/default/grub and update-grub.
  'grub-pc',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'grub2-common',
  // Secure Boot: shim signed by Microsoft's UEFI CA, GRUB and the kernel signed by Debian.
  // With both loaders present grub-install puts the signed chain into the ESP
  // (--uefi-secure-boot); mokutil lets the node report its Secure Boot state.
  'shim-signed',
  'grub-efi-amd64-signed',
  'mokutil',
  'cloud-init',
  // debootstrap does not resolve virtual packages: python3-cryptography needs
  // python3-cffi-backend-api-{min,max}, which only this package provides.
  'python3-cffi-backend',
  'openssh-server',
  // netplan-free networking that cloud-init renders ENI for.
  'ifupdown',
  'isc-dhcp-client',
  'systemd-sysv',
  'udev',
  'kmod',
  'iproute2',
  'ca-certificates',
  // Fuel's layouts put / on LVM and /boot on MD RAID1: the initramfs must assemble both,
  // and its boot scripts need busybox (initramfs-tools only recommends it, and
  // debootstrap installs no recommends: without it the root VG never appears).
  'lvm2',
  'mdadm',
  'busybox',
  // cloud-init sets the system locale on first boot; the image compiles it (finish-rootfs.ts).
  'locales',
  // systemd-logind, which turns the ACPI power button into a clean shutdown, needs the system bus.
  'dbus',
];

/**
 * Fuel's deployment reaches a node over SSH (openssh-server is in TINY) and
 * mcollective (its server, with the rabbitmq connector over STOMP), then applies
 * puppet code it rsyncs from the master.
 */
const DEPLOY: readonly string[] = [...TINY, 'mcollective', 'puppet', 'rsync'];

const FULL: readonly string[] = [
  ...DEPLOY,
  'xfsprogs',
  'e2fsprogs',
  'dosfstools',
  'parted',
  'gdisk',
  'sudo',
  'curl',
  'less',
];

export interface ProfileSpec {
  /** debootstrap variant: tiny starts from minbase; full from Debian's default set. */
  variant: 'minbase' | undefined;
  packages: readonly string[];
}

export function profileSpec(profile: ImageProfile): ProfileSpec {
  const packages = profile === 'tiny' ? TINY : profile === 'deploy' ? DEPLOY : FULL;
  return { variant: 'minbase', packages };
}

