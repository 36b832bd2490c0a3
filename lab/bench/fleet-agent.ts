// The agent the simulated nodes run: the same esbuild bundle the bootstrap ramdisk
// carries (one ES module, no tsx, so 50 start-ups stay cheap), plus a `provision`
// launcher on PATH, as the ramdisk has it, for the daemon's own `provision …` argv.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleAgent } from '../../agent/host/ramdisk/bundle.js';
import { shellQuote } from '../deploy/ssh.js';
import { agentNodeArgv } from '../../agent/core/node-flags.js';

export interface FleetAgent {
  /** The bundled agent (node <bundle> <sub-command> …). */
  bundle: string;
  /** A directory holding the `provision` launcher: put it first on PATH. */
  binDir: string;
  bytes: number;
}

export async function prepareFleetAgent(dir: string): Promise<FleetAgent> {
  const b = await bundleAgent();
  const binDir = join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const bundle = join(dir, 'provision.mjs');
  writeFileSync(bundle, b.code);
  const launcher = join(binDir, 'provision');
  writeFileSync(launcher, `#!/bin/sh\nexec ${agentNodeArgv(process.execPath, bundle).map(shellQuote).join(' ')} "$@"\n`);
  chmodSync(launcher, 0o755);
  return { bundle, binDir, bytes: b.bytes };
}
