// Re-provisioning a node fuel-agent provisioned, with keep_data. For fuel-agent's
// own recorded schemes (fixtures/fuel-agent-plans), loop devices of the case's
// exact disk sizes and sector sizes are laid out as fuel-agent left them
// (agent/testing/fuel-agent-layout.ts), files go into the filesystems to keep,
// then the case's Nailgun data, with keep_data set, goes through our planner,
// `partition` and `verify`. Checked with sgdisk (not the sfdisk the agent reads):
// kept entries are untouched, the others re-created in place; digests of the kept
// files; new filesystems everywhere else. Partition-only cases: the host has no
// device-mapper or md (a kept LV, and a Ceph OSD partition, are in the VM test).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx, type Ctx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { buildPlan } from '../plan/build.js';
import type { Plan } from '../plan/types.js';
import { parseProvisionData } from '../schema/load.js';
import { normaliseTheirs, ourScheme, type FuelScheme } from '../testing/fuel-agent-shape.js';
import {
  fuelDeviceMap,
  fuelDiskGeometry,
  fuelLayoutArgv,
  fuelSectors,
  loadFuelCase,
  markKeepData,
  parseSgdiskInfo,
  renameDevices,
  retargetInventory,
  sgdiskInfoArgv,
  type FuelTarget,
  type KeepPick,
  type SgdiskInfo,
} from '../testing/fuel-agent-layout.js';
import { createLoopDisks } from '../testing/loop-disks.js';
import { probeSignature } from '../tools/blkid.js';
import { MountStack } from '../tools/mount.js';
import { formatDiff } from '../verify/compare.js';
import { verifyPlan } from '../verify/verify.js';
import { executePartitioning } from './execute.js';
import { MiB } from '../plan/geometry.js';
import { rereadTable } from './reread.js';
import { ownLeaks } from './test-layouts.js';
import { waitForNode } from './wait-node.js';

const TAG = 'fakeep';

interface KeepCase {
  name: string;
  /** keep_data added to the case's data (single_disk_ks_spaces already keeps `/`). */
  keep: KeepPick[];
  what: string;
}

const CASES: KeepCase[] = [
  { name: 'fuel-samples/single_disk_ks_spaces', keep: [], what: 'fuel-agent\'s own keep_data sample: ext4 / kept, ext2 /boot re-made' },
  {
    name: 'generated/seed-12',
    keep: [{ disk: 'nvme0n1', mount: '/home' }],
    what: 'xfs /home kept on a 4Kn NVMe disk; the SATA disk relabelled (ext2 /boot re-made, / awaits its image)',
  },
  {
    name: 'generated/seed-188',
    keep: [{ disk: 'sda', mount: '/' }, { disk: 'sdb', mount: '/var/tmp' }],
    what: 'ext4 / (its image skipped) and ext4 /var/tmp kept on two disks, ext2 /boot re-made in front of /',
  },
];

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function sgdiskInfo(ctx: Ctx, disk: string, num: number): Promise<SgdiskInfo> {
  return parseSgdiskInfo((await ctx.runner.run(sgdiskInfoArgv(disk, num), { readOnly: true })).stdout);
}

/** Every partition of the plan as sgdisk sees it, by device. */
async function table(ctx: Ctx, plan: Plan): Promise<Map<string, SgdiskInfo>> {
  const out = new Map<string, SgdiskInfo>();
  for (const d of plan.parteds) for (const p of d.partitions) out.set(p.device, await sgdiskInfo(ctx, d.device, p.num));
  return out;
}

/** Writes a few files of random content into each filesystem; returns path → sha256. */
async function writeFiles(ctx: Ctx, devices: readonly string[]): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  await using mounts = new MountStack(ctx);
  for (const [i, dev] of devices.entries()) {
    const mnt = await mounts.tempDir();
    await mounts.mount(dev, mnt);
    await mkdir(join(mnt, 'srv/data'), { recursive: true });
    for (const [name, size] of [['a.bin', 1 << 20], ['srv/data/b.bin', 300_001 + i], ['c.txt', 77]] as const) {
      const body = randomBytes(size);
      await writeFile(join(mnt, name), body);
      sums.set(`${dev}:${name}`, sha256(body));
    }
  }
  return sums;
}

async function readSums(ctx: Ctx, sums: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await using mounts = new MountStack(ctx);
  const mounted = new Map<string, string>();
  for (const key of sums.keys()) {
    const [dev, name] = key.split(':') as [string, string];
    let mnt = mounted.get(dev);
    if (!mnt) {
      mnt = await mounts.tempDir();
      await mounts.mount(dev, mnt, { readOnly: true });
      mounted.set(dev, mnt);
    }
    out.set(key, sha256(await readFile(join(mnt, name))));
  }
  return out;
}

describe('re-provisioning a node fuel-agent laid out, with keep_data, on loop devices', () => {
  afterAll(async () => {
    expect(await ownLeaks([TAG])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it.each(CASES)('$name: $what', async ({ name, keep }) => {
    const c = loadFuelCase(name);
    markKeepData(c.raw, keep);
    const data = parseProvisionData(c.raw);
    // Our plan for the real node is fuel-agent's scheme (keep_data aside).
    const real = buildPlan(data, c.inventory);
    const noKeep = (x: FuelScheme): FuelScheme => ({ ...x, fss: x.fss.map((f) => ({ ...f, keep_data: false })) });
    expect(noKeep(ourScheme(real))).toEqual(noKeep(normaliseTheirs(c.scheme)));

    const geometry = fuelDiskGeometry(c);
    await using disks = await createLoopDisks(geometry.map((g) => ({ sizeMiB: g.size / MiB, sectorSize: g.logicalSectorSize, tag: TAG })));
    const targets: Record<string, FuelTarget> = Object.fromEntries(
      geometry.map((g, i) => [g.device, { device: disks[i]!.device, logicalSectorSize: g.logicalSectorSize }]),
    );
    const inventory = retargetInventory(c, targets);
    const plan = buildPlan(data, inventory);
    // Same plan as for the real disks, but for the device names.
    const toTarget = fuelDeviceMap(c.scheme, targets);
    const back = new Map(c.scheme.parteds.flatMap((d) => [d.device, ...d.partitions.map((p) => p.device)]).map((f) => [toTarget(f), f]));
    expect(renameDevices(plan, (p) => back.get(p) ?? p)).toEqual(real);
    const kept = plan.parteds.flatMap((d) => d.partitions.filter((p) => p.keepData));
    const keptFs = plan.fss.filter((f) => f.keepData);
    expect(kept.length).toBeGreaterThan(0);
    expect(keptFs.map((f) => f.device).sort()).toEqual(kept.map((p) => p.device).sort());
    // An image whose filesystem is kept must not be written.
    for (const img of plan.images) expect(img.keepData ?? false, img.mount).toBe(plan.fss.find((f) => f.device === img.targetDevice)?.keepData);

    // The node as fuel-agent left it.
    const ctx = createCtx({ log: silentLogger });
    const run = (argv: readonly string[]) => ctx.runner.run(argv, { timeoutMs: 300_000 });
    const layout = fuelLayoutArgv(c.scheme, targets);
    expect(layout.lvm).toEqual([]);
    for (const argv of layout.tables) await run(argv);
    for (const d of c.scheme.parteds) {
      const t = targets[d.device]!;
      await rereadTable(ctx, t.device);
      for (const p of d.partitions) await waitForNode(ctx, toTarget(p.device), { sizeBytes: (p.end - p.begin) * MiB, timeoutMs: 30_000 });
    }
    for (const argv of layout.mkfs) await run(argv);
    const sums = await writeFiles(ctx, keptFs.map((f) => f.device));
    const before = await table(ctx, plan);
    const uuids = new Map(await Promise.all(plan.fss.map(async (f) => [f.device, (await probeSignature(ctx, f.device)).UUID] as const)));
    // fuel-agent's table, sector for sector (sgdisk's reading of what we wrote).
    for (const d of c.scheme.parteds) {
      for (const p of d.partitions) {
        const s = before.get(toTarget(p.device))!;
        expect({ first: s.first, last: s.last }, p.device).toEqual(fuelSectors(p, targets[d.device]!.logicalSectorSize));
      }
    }

    await executePartitioning(ctx, plan, inventory);

    const res = await verifyPlan(ctx, plan, { skipImageFilesystems: true });
    expect(formatDiff(res.items)).toBe('');
    expect(res.ok).toBe(true);

    const after = await table(ctx, plan);
    for (const d of plan.parteds) {
      for (const p of d.partitions) {
        const was = before.get(p.device)!;
        const is = after.get(p.device)!;
        if (p.keepData) {
          // Not moved, not re-created, not even retyped or renamed.
          expect(is, p.device).toEqual(was);
        } else {
          // Re-created where fuel-agent had it (same geometry), as a new entry.
          expect({ first: is.first, last: is.last }, p.device).toEqual({ first: was.first, last: was.last });
          expect(is.uniqueGuid, p.device).not.toBe(was.uniqueGuid);
        }
      }
    }
    expect(await readSums(ctx, sums)).toEqual(sums);
    for (const fs of plan.fss) {
      const now = await probeSignature(ctx, fs.device);
      if (fs.keepData) expect(now.UUID, fs.device).toBe(uuids.get(fs.device));
      else if (fs.fromImage) expect(now.TYPE, `${fs.device} awaits its image`).toBeUndefined();
      else {
        expect(now.TYPE, fs.device).toBe(fs.type);
        expect(now.UUID, fs.device).toBeDefined();
        expect(now.UUID, `${fs.device} re-made`).not.toBe(uuids.get(fs.device));
      }
    }
    expect(plan.fss.filter((f) => !f.keepData && !f.fromImage).length).toBeGreaterThan(0);
  }, 180_000);
});
