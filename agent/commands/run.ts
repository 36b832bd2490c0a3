// `provision` (no sub-command): the whole run, validate → plan → partition →
// images → configdrive → bootloader → JSON report.
import { runOptions, runProvisionCommand } from './run-command.js';
import type { Command } from '../core/cli-types.js';

export const command: Command = {
  name: 'run',
  summary: 'Provision this node: validate, plan, partition, write images, configdrive and bootloader; print a JSON report (--dry-run prints the plan and every command instead).',
  usage: runOptions.usage('[run]'),
  options: runOptions.help(),
  run: (args, io, env) => runProvisionCommand('[run]', args, io, { signal: env.signal }),
};
