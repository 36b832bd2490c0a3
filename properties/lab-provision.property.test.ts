// Property, in the lab: generated layouts sized for VMs — SATA and NVMe disks,
// 512 and 4096-byte sectors, / on a partition or on LVM across disks, /boot plain
// or RAID1, an ESP — execute inside a QEMU VM booted from the bootstrap ramdisk
// (real device-mapper and md), get a real image streamed onto / and a configdrive,
// and verify; then a second, different layout over the same disks (stale LVM, MD
// and GPT left behind) does too — after that layout has been laid out once and then
// damaged as a crash would leave it (generated from its plan: a half-created array,
// a VG missing a PV, a partition without its filesystem, the first MiBs of an image
// over a filesystem; properties/stale-state.ts), so its clean step meets the
// leftovers in the very places it will use. Seeded and replayable: a failure prints the seed,
// the path, the failing case (written under reports/) and the one command that
// reruns exactly that case.
//   FORGE_PROP_SEED=<seed> FORGE_PROP_PATH=<path> FORGE_LAB_PROP_RUNS=<n> npx vitest run properties/lab-provision.property.test.ts
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../agent/host/artifacts.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { vmInventory } from '../lab/scenario.js';
import { bootVmNode } from '../lab/vm/run-in-vm.js';
import { caseArb, describeCase, IMAGE, onVm, type VmCase } from './lab-vm-cases.js';
import { NodeRecord } from '../lab/report/record.js';
import { writeLabPropertyFailure } from './lab-failure.js';
import { publishSmallRootImage } from '../lab/testing/small-root-image.js';
import { Stages } from '../lab/stages.js';
import { leftoverArgv, onNodeDevices, type Leftover } from './stale-state.js';
import type { Plan } from '../agent/plan/types.js';

const seed = Number(process.env['FORGE_PROP_SEED'] ?? Date.now() % 2 ** 31);
const path = process.env['FORGE_PROP_PATH'];
const numRuns = Number(process.env['FORGE_LAB_PROP_RUNS'] ?? 1);
/** On the node: the image's first MiBs, for the half-written-image leftover. */
const HALF_IMAGE = '/tmp/half-image.img';
const MiB = 2 ** 20;

describe('lab provisioning property (VM)', () => {
  const runner = new ExecaRunner();
  const work = mkdtempSync(join(tmpdir(), 'forge-labprop-'));
  const images = join(work, 'images');

  beforeAll(async () => {
    await ensureBootstrap();
    // A small real root filesystem with known content, gzip'd, metadata beside it.
    const tree = join(work, 'tree');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc', 'forge-prop'), `seed ${seed}\n`);
    mkdirSync(images, { recursive: true });
    await publishSmallRootImage(runner, { tree, imagesDir: images, name: IMAGE, sizeMiB: 24 });
  }, 30 * 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(`generated layouts provision and verify in a VM, and a second layout over the first does too (seed ${seed}, ${numRuns} run(s))`, async () => {
    const steps = (input: string): string[][] => [
      ['provision', 'partition', '--input', input],
      ['provision', 'image', '--input', input, '--stall-timeout', '20'],
      ['provision', 'configdrive', '--input', input, '--log', '/tmp/configdrive.log'],
      ['provision', 'verify', '--input', input, '--json'],
    ];
    // The case being run: with endOnFailure (no shrinking) the last case is the counterexample, drawn in its report.
    const startedAt = new Date();
    let stages = new Stages();
    let record = new NodeRecord('prop', '');
    const prop = fc.asyncProperty(caseArb, async (c) => {
      process.stdout.write(`lab property case: ${describeCase(c)}\n`);
      stages = new Stages();
      record = new NodeRecord('prop', describeCase(c));
      await using node = await stages.run('prop: boot bootstrap', 10 * 60_000, () => bootVmNode({ disks: c.disks, imagesDir: images, runner }));
      try {
        await layouts(c, node);
      } catch (e) {
        record.fail(e, node.serialText());
        throw e;
      }
    });
    const layouts = async (c: VmCase, node: Awaited<ReturnType<typeof bootVmNode>>): Promise<void> => {
      for (const [i, g] of [c.first, c.second].entries()) {
        const data = onVm(g, c.disks, node.imagesUrl);
        record.report.plan = buildPlan(parseProvisionData(data), vmInventory(c.disks));
        const input = `/tmp/provision-${i}.json`;
        await node.upload(input, JSON.stringify(data));
        if (i === 1 && c.stale.length) await leaveLeftovers(c.stale, input, record.report.plan as Plan, node);
        for (const argv of steps(input)) {
          const r = await stages.run(`prop: layout ${i}: ${argv.slice(0, 2).join(' ')}`, 11 * 60_000, () =>
            node.run(argv, { timeoutMs: 10 * 60_000, onLog: (l) => record.agentLine(l) }));
          record.addChecks([{ name: `layout ${i}: ${argv.slice(0, 2).join(' ')}`, ok: r.exitCode === 0, detail: `exit ${r.exitCode}` }]);
          expect({ layout: i, argv: argv.slice(0, 2).join(' '), exitCode: r.exitCode, out: r.exitCode ? `${r.stdout.slice(-1500)}\n${r.stderrTail.slice(-1500)}` : '' })
            .toEqual({ layout: i, argv: argv.slice(0, 2).join(' '), exitCode: 0, out: '' });
          if (argv[1] === 'verify') expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
        }
      }
    };
    /** The second layout laid out once, then damaged as a crash would leave it. */
    const leaveLeftovers = async (stale: Leftover[], input: string, hostPlan: Plan, node: Awaited<ReturnType<typeof bootVmNode>>): Promise<void> => {
      await node.upload(HALF_IMAGE, gunzipSync(readFileSync(join(images, IMAGE))).subarray(0, 4 * MiB));
      const run = async (argv: string[]): Promise<string> => {
        const r = await stages.run(`prop: leftovers: ${argv.slice(0, 2).join(' ')}`, 6 * 60_000, () =>
          node.run(argv, { timeoutMs: 5 * 60_000, onLog: (l) => record.agentLine(l) }));
        record.addChecks([{ name: `leftovers: ${argv.join(' ')}`, ok: r.exitCode === 0, detail: `exit ${r.exitCode}` }]);
        expect({ argv: argv.join(' '), exitCode: r.exitCode, out: r.exitCode ? r.stderrTail.slice(-1500) : '' }).toEqual({ argv: argv.join(' '), exitCode: 0, out: '' });
        return r.stdout;
      };
      // The node's own plan names the devices as its kernel did this boot.
      const nodePlan = JSON.parse(await run(['provision', 'plan', '--input', input, '--json'])) as Plan;
      await run(['provision', 'partition', '--input', input]);
      for (const argv of leftoverArgv(onNodeDevices(stale, hostPlan, nodePlan), HALF_IMAGE)) await run(argv);
    };
    const result = await fc.check(prop, { seed, numRuns, endOnFailure: true, ...(path ? { path } : {}) });
    if (result.failed) {
      const f = writeLabPropertyFailure({ seed, path: result.counterexamplePath ?? undefined, counterexample: result.counterexample?.[0], record, stages: stages.records, startedAt });
      process.stdout.write(`report: ${f.html}\n`);
      throw new Error(`lab property failed (seed ${seed}, path ${String(result.counterexamplePath)}); case: ${f.caseFile}\nreplay: ${f.replay}\n${String(result.errorInstance ?? '')}`);
    }
    expect(result.numRuns).toBe(numRuns);
  }, Math.max(1, numRuns) * 30 * 60_000);
});
