// `npm run bench:fleet -- [--nodes 1,10,50] [--image-mib 128]` (pure parsing).
import { parseArgs } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';

export interface FleetArgs {
  /** Fleet sizes, run one after the other. */
  nodes: number[];
  /** Raw size of the synthetic ext4 image every node writes. */
  imageMiB: number;
}

export const DEFAULT_FLEETS = [1, 10, 50];
export const DEFAULT_IMAGE_MIB = 128;
/** Addresses and MACs are numbered in 16 bits; memory runs out long before. */
export const MAX_NODES = 4000;

function positiveInt(text: string, field: string, max: number): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ForgeError('USAGE', `--${field}: expected an integer 1..${max}, got ${JSON.stringify(text)}`, { field });
  return n;
}

export function parseFleetArgs(args: readonly string[]): FleetArgs {
  let values: { nodes?: string | undefined; 'image-mib'?: string | undefined };
  try {
    values = parseArgs({ args: [...args], options: { nodes: { type: 'string' }, 'image-mib': { type: 'string' } }, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ForgeError('USAGE', `${e instanceof Error ? e.message : String(e)}\nusage: npm run bench:fleet -- [--nodes 1,10,50] [--image-mib 128]`);
  }
  const nodes = values.nodes === undefined ? DEFAULT_FLEETS : values.nodes.split(',').filter((s) => s.trim()).map((s) => positiveInt(s, 'nodes', MAX_NODES));
  if (nodes.length === 0) throw new ForgeError('USAGE', '--nodes: give at least one fleet size', { field: 'nodes' });
  const imageMiB = values['image-mib'] === undefined ? DEFAULT_IMAGE_MIB : positiveInt(values['image-mib'], 'image-mib', 4096);
  if (imageMiB < 16) throw new ForgeError('USAGE', '--image-mib: at least 16 (an ext4 filesystem with room for data)', { field: 'image-mib' });
  return { nodes, imageMiB };
}
