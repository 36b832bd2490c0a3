// Directory-level import cycles: `madge --circular` proves there are no cycles
// between files; this proves there are none between directories either
// (agent/bootstrap ↔ agent/build-image was one, files apart). A file's unit is
// its directory (agent/core, lab/master, agent/host/image); files directly in
// agent/, lab/, properties/ or ci/ (agent/cli.ts, lab/lab.ts) are units of their
// own. Tests are left out: a test may reach across for fixtures.
//
//   tsx ci/check-cycles.ts                 (runs madge itself)
//   npx madge --json --extensions ts --ts-config tsconfig.json agent lab properties ci > graph.json
//   tsx ci/check-cycles.ts graph.json      (or - for stdin)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ROOTS = ['agent', 'lab', 'properties', 'ci'];
const graphSchema = z.record(z.string(), z.array(z.string()));

function madgeGraph(source: string | undefined): string {
  if (source !== undefined) return readFileSync(source === '-' ? 0 : source, 'utf8');
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
  return execFileSync(join(repo, 'node_modules/.bin/madge'), ['--json', '--extensions', 'ts', '--ts-config', 'tsconfig.json', ...ROOTS], {
    cwd: repo,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

const isTest = (f: string): boolean => /\.test\.ts$/.test(f);

export function unitOf(file: string): string {
  const dir = dirname(file);
  return dir.includes('/') ? dir : file;
}

/** Edges between units, each with one file-level edge that makes it (for the message). */
export function unitGraph(files: Record<string, readonly string[]>): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const [from, deps] of Object.entries(files)) {
    if (isTest(from)) continue;
    const u = unitOf(from);
    const out = g.get(u) ?? new Map<string, string>();
    g.set(u, out);
    for (const to of deps) {
      if (isTest(to)) continue;
      const v = unitOf(to);
      if (v !== u && !out.has(v)) out.set(v, `${from} → ${to}`);
    }
  }
  return g;
}

/** Strongly connected components with more than one unit (Tarjan). */
export function cycles(g: Map<string, Map<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

function main(): number {
  const files = graphSchema.parse(JSON.parse(madgeGraph(process.argv[2])));
  const g = unitGraph(files);
  const found = cycles(g);
  if (!found.length) {
    console.log(`directory cycles: none (${g.size} units, ${Object.keys(files).filter((f) => !isTest(f)).length} files)`);
    return 0;
  }
  for (const scc of found) {
    console.error(`directory cycle: ${scc.join(' ↔ ')}`);
    const members = new Set(scc);
    for (const u of scc) {
      for (const [v, why] of g.get(u) ?? []) if (members.has(v)) console.error(`  ${u} → ${v}  (${why})`);
    }
  }
  return 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
