// The `provision` sub-commands a node runs: the whole registry of the node
// bundle (agent/host/ramdisk/bundle.ts puts this file in place of index.ts).
// Loaded lazily so `provision --version` and a single step stay fast on a slow
// bootstrap node.
import type { Command } from '../core/cli-types.js';

export type CommandRegistry = Record<string, () => Promise<Command>>;

export const commands: CommandRegistry = {
  partition: async () => (await import('./partition.js')).command,
  verify: async () => (await import('./verify.js')).command,
  plan: async () => (await import('./plan.js')).command,
  inventory: async () => (await import('./inventory.js')).command,
  'bootstrap-daemon': async () => (await import('./bootstrap.js')).daemonCommand,
  run: async () => (await import('./run.js')).command,
  configdrive: async () => (await import('./configdrive.js')).command,
  bootloader: async () => (await import('./bootloader.js')).command,
  image: async () => (await import('./image.js')).command,
};

/** `provision` with no sub-command runs the whole provisioning. */
export const DEFAULT_COMMAND = 'run';
