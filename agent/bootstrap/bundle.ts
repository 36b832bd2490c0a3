// The agent as ONE file: esbuild bundles agent/cli.ts (and every sub-command it
// loads lazily) into an ES module Node 20 runs without node_modules.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '../core/errors.js';

/** agent/ in the source tree (this file lives in agent/bootstrap/). */
export function agentSourceDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..');
}

// Bundled ESM still meets CommonJS dependencies that call require().
const BANNER = "import { createRequire as __forgeCreateRequire } from 'node:module'; const require = __forgeCreateRequire(import.meta.url);";

export interface AgentBundle {
  path: string;
  sha256: string;
  bytes: number;
}

export async function bundleAgent(outFile: string, entry = join(agentSourceDir(), 'cli.ts')): Promise<AgentBundle> {
  // esbuild is a build-time dependency: never part of the bundle itself.
  const esbuild = await import('esbuild').catch((e: unknown) => {
    throw new ForgeError('BUILD_FAILED', `esbuild is not installed (npm ci): ${(e as Error).message}`, { cause: e });
  });
  await mkdir(dirname(outFile), { recursive: true });
  const r = await esbuild.build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'silent',
    // Build-only tools are loaded dynamically by the build commands; a node never builds.
    external: ['esbuild', 'tsx', 'vitest'],
  });
  if (r.errors.length) throw new ForgeError('BUILD_FAILED', `esbuild: ${r.errors.map((x) => x.text).join('; ')}`);
  const data = await readFile(outFile);
  return { path: outFile, sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}
