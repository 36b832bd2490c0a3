// Property, in the lab: generated layouts sized for VMs — SATA and NVMe disks,
// 512 and 4096-byte sectors, / on a partition or on LVM across disks, /boot plain
// or RAID1, an ESP — execute inside a QEMU VM booted from the bootstrap ramdisk
// (real device-mapper and md), get a real image streamed onto / and a configdrive,
// and verify; then a second, different layout over the same disks (stale LVM, MD
// and GPT left behind) does too. Seeded and replayable: a failure prints the seed,
// the path, the failing case (written under reports/) and the one command that
// reruns exactly that case.
//   FORGE_PROP_SEED=<seed> FORGE_PROP_PATH=<path> FORGE_LAB_PROP_RUNS=<n> npx vitest run properties/lab-provision.property.test.ts
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../agent/host/artifacts.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { retargetToVm, vmInventory } from '../lab/scenario.js';
import type { VmDiskSpec } from '../lab/vm/qemu.js';
import { bootVmNode } from '../lab/vm/run-in-vm.js';
import { validCaseArb, type GeneratedCase } from './generators.js';
import { NodeRecord } from '../lab/report/record.js';
import { writeLabPropertyFailure } from './lab-failure.js';
import { publishSmallRootImage } from '../lab/testing/small-root-image.js';
import { Stages } from '../lab/stages.js';

const seed = Number(process.env['FORGE_PROP_SEED'] ?? Date.now() % 2 ** 31);
const path = process.env['FORGE_PROP_PATH'];
const numRuns = Number(process.env['FORGE_LAB_PROP_RUNS'] ?? 1);
const IMAGE = 'prop-root.img.gz';
const MiB = 2 ** 20;

interface VmCase {
  disks: VmDiskSpec[];
  first: GeneratedCase;
  second: GeneratedCase;
}

/** The VM's disks for a generated case: bus from the disk kind, its size and sector size. */
const vmDisks = (c: GeneratedCase): VmDiskSpec[] =>
  c.inventory.disks.map((d, i) => ({
    sizeMiB: Math.floor(d.size / MiB),
    bus: d.name.startsWith('nvme') ? 'nvme' : 'sata',
    logicalBlockSize: d.logicalSectorSize === 4096 ? 4096 : 512,
    serial: `prop-${i}`,
  }));

/**
 * A generated case on the VM's disks (lab/scenario.ts retargetToVm), without
 * keep_data (fresh disks hold nothing to keep), xfs only where mkfs.xfs accepts
 * the size, and the lab's image on /.
 */
function onVm(c: GeneratedCase, disks: readonly VmDiskSpec[], imagesUrl: string): Record<string, any> {
  const data = retargetToVm(c.data, disks);
  for (const s of data.ks_meta.pm_data.ks_spaces as any[]) {
    for (const v of s.volumes) {
      delete v.keep_data;
      if (v.file_system === 'xfs' && v.size < 320) v.file_system = 'ext4';
    }
  }
  data.ks_meta.image_data = { '/': { uri: `${imagesUrl}/${IMAGE}`, format: 'ext4', container: 'gzip' } };
  return data;
}

/** Room on / for the test image (24 MiB raw) and the configdrive's templates. */
function rootFits(c: GeneratedCase): boolean {
  const vols = (c.data.ks_meta.pm_data.ks_spaces as any[]).flatMap((s) => s.volumes as any[]);
  return vols.some((v) => v.mount === '/' && v.size >= 48);
}

/** One line per case for the CI log: disks, then each layout's shape. */
function describeCase(c: VmCase): string {
  const disks = c.disks.map((d) => `${d.bus}/${d.logicalBlockSize}/${d.sizeMiB}MiB`).join(' ');
  const shape = (g: GeneratedCase): string =>
    `/ on ${g.expect.rootOn}${g.expect.withBoot ? `, /boot ${g.expect.bootRaid ? 'raid1' : 'plain'}` : ''}${g.expect.withEsp ? ', esp' : ''}`;
  return `[${disks}] first: ${shape(c.first)}; second: ${shape(c.second)}`;
}

/**
 * The second layout is generated for SATA disks but lands on the first one's disks
 * (NVMe among them): keep it only when it is valid there, e.g. no plain /boot on
 * an NVMe disk without an ESP, which the planner rightly refuses.
 */
function plansOn(g: GeneratedCase, disks: readonly VmDiskSpec[]): boolean {
  try {
    buildPlan(parseProvisionData(onVm(g, disks, 'http://lab.invalid/targetimages')), vmInventory(disks));
    return true;
  } catch {
    return false;
  }
}

const caseArb: fc.Arbitrary<VmCase> = fc
  .integer({ min: 1, max: 3 })
  .chain((n) =>
    validCaseArb({ sizing: 'vm', minDisks: n, maxDisks: n, minDiskMiB: 1024, maxDiskMiB: 4096, kinds: ['sata', 'nvme'] })
      .filter(rootFits)
      .map((first) => ({ first, disks: vmDisks(first) }))
      .filter(({ first, disks }) => plansOn(first, disks))
      .chain(({ first, disks }) => {
        const smallest = Math.min(...disks.map((d) => d.sizeMiB));
        return validCaseArb({ sizing: 'vm', minDisks: n, maxDisks: n, minDiskMiB: smallest, maxDiskMiB: smallest, kinds: ['sata'] })
          .filter((second) => rootFits(second) && plansOn(second, disks))
          .map((second) => ({ disks, first, second }));
      }),
  );

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
    const result = await fc.check(prop, { seed, numRuns, endOnFailure: true, ...(path ? { path } : {}) });
    if (result.failed) {
      const f = writeLabPropertyFailure({ seed, path: result.counterexamplePath ?? undefined, counterexample: result.counterexample?.[0], record, stages: stages.records, startedAt });
      process.stdout.write(`report: ${f.html}\n`);
      throw new Error(`lab property failed (seed ${seed}, path ${String(result.counterexamplePath)}); case: ${f.caseFile}\nreplay: ${f.replay}\n${String(result.errorInstance ?? '')}`);
    }
    expect(result.numRuns).toBe(numRuns);
  }, Math.max(1, numRuns) * 30 * 60_000);
});
