// The node's agent as ONE file: esbuild bundles agent/cli.ts (and every
// sub-command it loads lazily) into an ES module Node 20 runs without
// node_modules. Only node-side code goes in: the command registry is the
// node's (agent/commands/node.ts: no build-image, no build-bootstrap), a static
// import of host-side code (agent/host/) fails the bundle, and a dynamic one
// becomes a module that refuses to load.
import { createHash } from 'node:crypto';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';
import { ForgeError } from '../../core/errors.js';

/** agent/ in the source tree (this file lives in agent/host/ramdisk/). */
export function agentSourceDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

// Bundled ESM still meets CommonJS dependencies that call require().
const BANNER = "import { createRequire as __forgeCreateRequire } from 'node:module'; const require = __forgeCreateRequire(import.meta.url);";

export interface AgentBundle {
  /** The bundled agent, an ES module. */
  code: Uint8Array;
  sha256: string;
  bytes: number;
  /** Bytes of the bundle by origin: an npm package (`zod`) or a source directory (`agent/plan`), largest first. */
  inputs: Record<string, number>;
}

const HOST_ONLY = 'forge-host-only';

/** The node bundle's rules (see the header): registry swapped, host code kept out. */
function nodeSideOnly(agent: string, repo: string): Plugin {
  const registry = join(agent, 'commands', 'index.ts');
  const nodeRegistry = join(agent, 'commands', 'node.ts');
  const host = join(agent, 'host') + sep;
  const skip = Symbol('resolving');
  return {
    name: 'node-side-only',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === skip) return undefined;
        const r = await build.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: skip });
        if (r.errors.length) return { errors: r.errors };
        if (r.path === registry) return { path: nodeRegistry };
        if (!r.path.startsWith(host)) return { path: r.path };
        const what = relative(repo, r.path);
        if (args.kind === 'dynamic-import') return { path: what, namespace: HOST_ONLY };
        return { errors: [{ text: `${relative(repo, args.importer)} imports ${what}: host-side code stays out of the node bundle` }] };
      });
      build.onLoad({ filter: /.*/, namespace: HOST_ONLY }, (args) => ({
        contents: `import { ForgeError } from ${JSON.stringify(join(agent, 'core', 'errors.ts'))};\nthrow new ForgeError('USAGE', ${JSON.stringify(`${args.path} runs on a build host; it is not in the node bundle`)});\n`,
        loader: 'ts',
        resolveDir: agent,
      }));
    },
  };
}

/** Bytes per npm package or agent/<dir> (agent/host/<dir>), from esbuild's metafile. */
function byOrigin(inputs: Record<string, { bytesInOutput: number }>): Record<string, number> {
  const sums = new Map<string, number>();
  for (const [path, i] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const parts = path.split('/');
    const origin = path.startsWith(`${HOST_ONLY}:`) ? 'host-only stubs' : (pkg ?? parts.slice(0, parts[1] === 'host' ? 3 : 2).join('/'));
    sums.set(origin, (sums.get(origin) ?? 0) + i.bytesInOutput);
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]));
}

export async function bundleAgent(entry = join(agentSourceDir(), 'cli.ts')): Promise<AgentBundle> {
  // esbuild is a build-time dependency: never part of the bundle itself.
  const esbuild = await import('esbuild').catch((e: unknown) => {
    throw new ForgeError('BUILD_FAILED', `esbuild is not installed (npm ci): ${(e as Error).message}`, { cause: e });
  });
  const agent = agentSourceDir();
  const repo = dirname(agent);
  const r = await esbuild
    .build({
      entryPoints: [entry],
      // Paths in the bundle's comments and metafile are relative to the repository, wherever the build runs.
      absWorkingDir: repo,
      outfile: join(repo, 'provision.mjs'),
      write: false,
      metafile: true,
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
      plugins: [nodeSideOnly(agent, repo)],
    })
    .catch((e: unknown) => {
      const errors = (e as { errors?: { text: string }[] }).errors;
      throw new ForgeError('BUILD_FAILED', `esbuild: ${errors?.map((x) => x.text).join('; ') ?? (e as Error).message}`, { cause: e });
    });
  const out = r.outputFiles[0];
  if (r.errors.length || !out) throw new ForgeError('BUILD_FAILED', `esbuild: ${r.errors.map((x) => x.text).join('; ') || 'no output'}`);
  const meta = Object.values(r.metafile.outputs)[0];
  return {
    code: out.contents,
    sha256: createHash('sha256').update(out.contents).digest('hex'),
    bytes: out.contents.length,
    inputs: byOrigin(meta?.inputs ?? {}),
  };
}
