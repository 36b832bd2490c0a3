// `provision` (no sub-command): the whole run, validate → plan → partition →
// images → configdrive → bootloader → JSON report.
import { runProvisionCommand, usageFor } from '../run/command.js';
import type { Command } from './types.js';

export const command: Command = {
  name: 'run',
  summary: 'Provision this node: validate, plan, partition, write images, configdrive and bootloader; print a JSON report (--dry-run prints the plan and every command instead).',
  usage: usageFor('[run]'),
  run: (args, io) => runProvisionCommand('[run]', args, io),
};
