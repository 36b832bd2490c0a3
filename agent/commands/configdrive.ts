// `provision configdrive`: write only the cloud-init configdrive of the plan.
import { runProvisionCommand, usageFor } from '../run/command.js';
import type { Command } from './types.js';

export const command: Command = {
  name: 'configdrive',
  summary: 'Validate and plan, then write only the configdrive (vfat config-2 by default) from the provision data.',
  usage: usageFor('configdrive'),
  run: (args, io) => runProvisionCommand('configdrive', args, io, ['configdrive']),
};
