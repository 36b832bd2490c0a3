// The test run of `npm test`: the type check and the import-cycle check side by
// side (both must pass before any test runs), then the unit tier, then the system
// and VM tiers side by side, each tier its own `vitest run --project …`. Why not one vitest: the system
// tier runs one file at a time and mostly waits on loop devices, udev and sync
// (about half a core on average over its ~2.5 min), while the VM tier keeps both
// cores busy with its two TCG lanes; run one after the other, that half-idle
// stretch sat in front of the VM tier on every run. Vitest cannot overlap them in
// one process: projects that run together share one worker limit, and the system
// tier's files must not run beside each other.
//
// The cold-machine prebuild (ci/prebuild-setup.ts) starts here, before the unit tier,
// as the vm project's global setup would in a single run; the vm tier is then told
// not to start it again. Output: whole lines from each tier as they come (each
// vitest line names its project), one JUnit file per tier (reports/junit-<tier>.xml),
// and a last line per tier. Exit 1 when any tier failed; every tier runs regardless.
// (`npm run test:only` is the single-process run, one tier after the other.)
//
//   tsx ci/run-tests.ts
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExecaRunner } from '../agent/core/runner.js';
import startPrebuild from './prebuild-setup.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const runner = new ExecaRunner();

type Tier = 'unit' | 'system' | 'vm';
const bin = (name: string): string => join(repo, 'node_modules/.bin', name);

/** One tier's vitest argv (the repo's own vitest, its own JUnit file). */
const tierArgv = (tier: Tier): string[] => [bin('vitest'), 'run', '--project', tier, `--outputFile.junit=reports/junit-${tier}.xml`];

interface Outcome {
  what: string;
  exitCode: number;
  seconds: number;
}

/** Runs argv to its end, passing its output on line by line (whole lines: two run at once). */
async function step(what: string, argv: readonly string[], env: Record<string, string> = {}): Promise<Outcome> {
  const t0 = Date.now();
  const p = runner.start(argv, {
    cwd: repo,
    // Colours as a single run would have them on a terminal (the pipes would turn them off).
    env: { ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}), ...env },
    onStdoutLine: (l) => process.stdout.write(l + '\n'),
    onStderrLine: (l) => process.stderr.write(l + '\n'),
  });
  const exit = await p.exited;
  return { what, exitCode: exit.signal ? 128 : exit.exitCode, seconds: (Date.now() - t0) / 1000 };
}

const runTier = (tier: Tier, env: Record<string, string> = {}): Promise<Outcome> => step(`tier ${tier}`, tierArgv(tier), env);
const report = (outcomes: readonly Outcome[]): boolean => {
  for (const o of outcomes) process.stdout.write(`${o.what}: ${o.exitCode === 0 ? 'passed' : `FAILED (exit ${o.exitCode})`} in ${o.seconds.toFixed(0)} s\n`);
  return outcomes.every((o) => o.exitCode === 0);
};

// The prebuild starts its dockerd first (seconds): the checks run meanwhile.
const prebuildStarted = startPrebuild();
const checks = await Promise.all([step('tsc --noEmit', [bin('tsc'), '--noEmit']), step('check:cycles', ['npm', 'run', '-s', 'check:cycles'])]);
const prebuildDone = await prebuildStarted;
if (!report(checks)) {
  await prebuildDone();
  process.exit(1);
}
const unit = await runTier('unit');
// FORGE_PREBUILD=0: the prebuild is already running (above); the vm project's global setup would start a second one.
const [system, vm] = await Promise.all([runTier('system'), runTier('vm', { FORGE_PREBUILD: '0' })]);
await prebuildDone();
process.exitCode = report([...checks, unit, system, vm]) ? 0 : 1;
