// `provision bootloader`: configure the already-written target (fstab, cloud-init
// datasource, GRUB) without partitioning or writing images.
import { runProvisionCommand, usageFor } from '../run/command.js';
import type { Command } from './types.js';

export const command: Command = {
  name: 'bootloader',
  summary: 'Validate and plan, then only mount the written target, write fstab and the cloud-init datasource list, and install GRUB.',
  usage: usageFor('bootloader'),
  run: (args, io) => runProvisionCommand('bootloader', args, io, ['bootloader']),
};
