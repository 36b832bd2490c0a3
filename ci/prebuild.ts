// Builds (or finds in the cache) the slow artifacts the system and VM tiers need —
// the tiny and deploy OS images and the bootstrap ramdisk — at the start of a test
// run. On a cold machine they would otherwise be built where first asked for: the
// tiny image inside the system tier, the ramdisk and the deploy image at the start
// of the VM tier, with both VM lanes waiting. Started by ci/prebuild-setup.ts (at a
// lower CPU priority) they build while the unit and system tiers leave a core idle;
// a test asking for one meanwhile waits on the builder's lock instead of building it
// again. Prints one line per artifact; exit 1 if any build failed.
//
//   tsx ci/prebuild.ts
import { ensureBootstrap, ensureDeployImage, ensureTinyImage } from '../agent/host/artifacts.js';

const JOBS: readonly [string, () => Promise<unknown>][] = [
  ['tiny OS image', () => ensureTinyImage()],
  ['bootstrap ramdisk', () => ensureBootstrap()],
  ['deploy OS image', () => ensureDeployImage()],
];

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
