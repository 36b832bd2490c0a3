// The registry of `provision` sub-commands. Loaded lazily so `provision --version`
// and a single step stay fast on a slow bootstrap node.
import type { Command } from './types.js';

export const commands: Record<string, () => Promise<Command>> = {
  partition: async () => (await import('./partition.js')).command,
  verify: async () => (await import('./verify.js')).command,
  plan: async () => (await import('./plan.js')).command,
  inventory: async () => (await import('./inventory.js')).command,
  'build-image': async () => (await import('./build-image.js')).command,
  'build-bootstrap': async () => (await import('./bootstrap.js')).buildCommand,
  'bootstrap-daemon': async () => (await import('./bootstrap.js')).daemonCommand,
  run: async () => (await import('./run.js')).command,
  configdrive: async () => (await import('./configdrive.js')).command,
  bootloader: async () => (await import('./bootloader.js')).command,
  image: async () => (await import('./image.js')).command,
};

/** `provision` with no sub-command runs the whole provisioning. */
export const DEFAULT_COMMAND = 'run';
