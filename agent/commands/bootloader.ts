// `provision bootloader`: configure the already-written target (fstab, cloud-init
// datasource, GRUB) without partitioning or writing images.
import { runOptions, runProvisionCommand } from './run-command.js';
import type { Command } from '../core/cli-types.js';

export const command: Command = {
  name: 'bootloader',
  summary: 'Validate and plan, then only mount the written target, write fstab and the cloud-init datasource list, and install GRUB.',
  usage: runOptions.usage('bootloader'),
  options: runOptions.help(),
  run: (args, io, env) => runProvisionCommand('bootloader', args, io, { only: ['bootloader'], signal: env.signal }),
};
