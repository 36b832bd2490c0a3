// The registry of `provision` sub-commands on a development or build host:
// every node command (./node.ts) plus the host-side builders, whose code lives
// in agent/host/ and never ships to a node (the node bundle carries ./node.ts
// in place of this file).
import { commands as nodeCommands, DEFAULT_COMMAND, type CommandRegistry } from './node.js';

export const hostCommands: CommandRegistry = {
  'build-image': async () => (await import('./build-image.js')).command,
  'build-bootstrap': async () => (await import('./bootstrap.js')).buildCommand,
};

export const commands: CommandRegistry = { ...nodeCommands, ...hostCommands };

export { DEFAULT_COMMAND };
