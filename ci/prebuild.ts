// Builds (or finds in the cache) the slow artifacts the system and VM tiers need —
// the tiny and deploy OS images, the bootstrap ramdisk and the lab's two container
// images (master services, deployment services) — at the start of a test run. On a
// cold machine they would otherwise be built where first asked for: the tiny image
// inside the system tier, the rest at the start of the VM tier, with both VM lanes
// waiting. Started by ci/prebuild-setup.ts (at a
// lower CPU priority) they build while the unit and system tiers leave a core idle;
// a test asking for one meanwhile waits on the builder's lock instead of building it
// again. The container images need the lab's dockerd: ci/prebuild-setup.ts starts it
// first; without one they are skipped (the lab starts it and builds them when needed).
// Prints one line per artifact; exit 1 if any build failed.
//
//   tsx ci/prebuild.ts
import { ensureBootstrap, ensureDeployImage, ensureTinyImage } from '../agent/host/artifacts.js';
import { createCtx } from '../agent/core/context.js';
import { createLogger, stderrSink } from '../agent/core/log.js';
import { DEPLOY_IMAGE, ensureMasterImage, MASTER_IMAGE } from '../lab/master/container-image.js';
import { dockerProbe, infoArgv } from '../lab/master/docker-cli.js';

const ctx = createCtx({ log: createLogger([stderrSink]) });
const docker = (await dockerProbe(ctx.runner, infoArgv(), 15_000))?.trim();
type Job = readonly [what: string, build: () => Promise<unknown>];
const JOBS: readonly Job[] = [
  ['tiny OS image', () => ensureTinyImage(ctx)],
  ['bootstrap ramdisk', () => ensureBootstrap(ctx)],
  ['deploy OS image', () => ensureDeployImage(ctx)],
  ...(docker
    ? ([
        ['master container image', () => ensureMasterImage(ctx, {}, MASTER_IMAGE)],
        ['deployment container image', () => ensureMasterImage(ctx, {}, DEPLOY_IMAGE)],
      ] satisfies Job[])
    : []),
];
if (!docker) process.stdout.write('prebuild: container images skipped (no Docker daemon answers)\n');

const started = Date.now();
const outcomes = await Promise.all(
  JOBS.map(async ([what, build]) => {
    const t0 = Date.now();
    try {
      await build();
      return { what, ok: true, s: (Date.now() - t0) / 1000 };
    } catch (e) {
      return { what, ok: false, s: (Date.now() - t0) / 1000, error: e instanceof Error ? e.message : String(e) };
    }
  }),
);
for (const o of outcomes) process.stdout.write(`prebuild: ${o.what} ${o.ok ? 'ready' : `FAILED: ${o.error}`} after ${o.s.toFixed(1)} s\n`);
process.stdout.write(`prebuild: done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
