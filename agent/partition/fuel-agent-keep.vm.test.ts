// Re-provisioning a node fuel-agent provisioned, with a kept LV and a kept Ceph OSD
// partition: LVM needs device-mapper, so this runs in a VM (bootstrap ramdisk,
// TCG). The disks are fuel-agent's generated/seed-180 case with its own sizes and
// buses (a 233 GiB NVMe and a 16 GiB SATA disk, sparse qcow2): the guest lays
// them out exactly as fuel-agent.json says (agent/testing/fuel-agent-layout.ts:
// GPT, PVs with --metadatasize/--metadatacopies 2, VGs `os` and `cinder`, LVs,
// filesystems), files go into os/root and into the Ceph partition's XFS, then our
// `provision partition` and `verify` run on the case's Nailgun data with keep_data
// on both. Checked: kept entries untouched (sgdisk), digests, the rest re-made.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../host/artifacts.js';
import { parseInventory } from '../inventory/load.js';
import { buildPlan } from '../plan/build.js';
import type { Plan } from '../plan/types.js';
import { parseProvisionData } from '../schema/load.js';
import { normaliseTheirs, ourScheme, type FuelScheme } from '../testing/fuel-agent-shape.js';
import {
  fuelDiskGeometry,
  fuelLayoutArgv,
  fuelSectors,
  loadFuelCase,
  markKeepData,
  parseSgdiskInfo,
  sgdiskInfoArgv,
  type FuelTarget,
  type SgdiskInfo,
} from '../testing/fuel-agent-layout.js';
import { parseExport } from '../tools/blkid.js';
import { bootVmNode, type VmNode } from '../../lab/vm/run-in-vm.js';

const CASE = 'generated/seed-180';
const CEPH_OSD = '4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D';
const MiB = 1024 * 1024;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** What must match between two plans for the same data on disks of slightly different sizes. */
const layoutOf = (p: Plan) => ({
  parteds: p.parteds.map((d) => ({ device: d.device, partitions: d.partitions })),
  mds: p.mds, pvs: p.pvs, vgs: p.vgs, lvs: p.lvs, fss: p.fss, images: p.images, configdrive: p.configdrive,
});

async function ok(n: VmNode, argv: string[], timeoutMs = 300_000): Promise<string> {
  const r = await n.run(argv, { timeoutMs });
  expect({ argv, exitCode: r.exitCode, stderr: r.exitCode ? r.stderrTail : '' }).toEqual({ argv, exitCode: 0, stderr: '' });
  return r.stdout;
}

describe('re-provisioning a fuel-agent node with a kept LV and a kept Ceph partition, in a VM', () => {
  beforeAll(() => ensureBootstrap(), 30 * 60_000);

  it(`${CASE}: os/root (and so VG os) and the Ceph OSD partition kept, everything else re-made`, async () => {
    const c = loadFuelCase(CASE);
    markKeepData(c.raw, [{ vg: 'os', lv: 'root' }, { disk: 'sda', mount: 'none' }]);
    const data = parseProvisionData(c.raw);
    const real = buildPlan(data, c.inventory);
    const noKeep = (x: FuelScheme): FuelScheme => ({ ...x, fss: x.fss.map((f) => ({ ...f, keep_data: false })) });
    expect(noKeep(ourScheme(real))).toEqual(noKeep(normaliseTheirs(c.scheme)));

    // The VM gets the case's disks: same buses (so the same kernel names), whole MiB of the same sizes.
    const geometry = fuelDiskGeometry(c);
    expect(geometry.map((g) => g.device)).toEqual(['/dev/nvme0n1', '/dev/sda']);
    const targets: Record<string, FuelTarget> = Object.fromEntries(geometry.map((g) => [g.device, { device: g.device, logicalSectorSize: g.logicalSectorSize }]));
    await using n = await bootVmNode({
      disks: geometry.map((g) => ({ sizeMiB: Math.floor(g.size / MiB), bus: g.device.includes('nvme') ? 'nvme' as const : 'sata' as const })),
    });

    // Our plan for the VM's disks (as the guest reported them) is the plan for the real node.
    const plan = buildPlan(data, parseInventory(n.node.inventory));
    expect(layoutOf(plan)).toEqual(layoutOf(real));
    const keptParts = plan.parteds.flatMap((d) => d.partitions.filter((p) => p.keepData).map((p) => ({ disk: d.device, ...p })));
    expect(keptParts.map((p) => p.device)).toEqual(['/dev/nvme0n1p5', '/dev/sda4', '/dev/sda5']);
    expect(keptParts.find((p) => p.device === '/dev/sda5')?.guid?.toUpperCase()).toBe(CEPH_OSD);
    expect(plan.vgs.map((g) => [g.name, g.keepData])).toEqual([['os', true], ['cinder', false]]);
    expect(plan.lvs.every((l) => l.keepData)).toBe(true);
    const keptFs = ['/dev/mapper/os-root', '/dev/sda5'];
    expect(plan.fss.filter((f) => f.keepData && f.type !== 'swap').map((f) => f.device).sort()).toEqual(keptFs);

    // The node as fuel-agent left it.
    const layout = fuelLayoutArgv(c.scheme, targets);
    for (const argv of layout.tables) await ok(n, argv);
    for (const d of Object.keys(targets)) await ok(n, ['partprobe', d]);
    await ok(n, ['udevadm', 'settle']);
    for (const argv of layout.lvm) await ok(n, argv);
    for (const argv of layout.mkfs) await ok(n, argv, 600_000);
    const payload = new Map<string, Uint8Array>();
    for (const [i, dev] of keptFs.entries()) {
      const mnt = `/mnt/keep${i}`;
      await ok(n, ['mkdir', '-p', mnt]);
      await ok(n, ['mount', dev, mnt]);
      for (const [name, size] of [['a.bin', 256 * 1024 + i], ['c.txt', 99]] as const) {
        const body = randomBytes(size);
        await n.upload(`/tmp/payload/${i}-${name}`, body);
        await ok(n, ['cp', `/tmp/payload/${i}-${name}`, `${mnt}/${name}`]);
        payload.set(`${mnt}/${name}`, body);
      }
      await ok(n, ['umount', mnt]);
    }
    const snapshot = async () => {
      const parts = new Map<string, SgdiskInfo>();
      for (const d of plan.parteds) for (const p of d.partitions) parts.set(p.device, parseSgdiskInfo(await ok(n, sgdiskInfoArgv(d.device, p.num))));
      const fsUuid = new Map<string, string | undefined>();
      for (const f of plan.fss) {
        const r = await n.run(['blkid', '-p', '-o', 'export', f.device]);
        fsUuid.set(f.device, r.exitCode === 0 ? parseExport(r.stdout).UUID : undefined);
      }
      return { parts, fsUuid };
    };
    const before = await snapshot();
    for (const d of c.scheme.parteds) {
      for (const p of d.partitions) {
        const s = before.parts.get(p.device)!;
        expect({ first: s.first, last: s.last }, p.device).toEqual(fuelSectors(p, 512));
      }
    }

    // Re-provision: the guest plans from the same data and its own disks.
    await n.upload('/tmp/provision.json', JSON.stringify(c.raw));
    const guestPlan = JSON.parse(await ok(n, ['provision', 'plan', '--input', '/tmp/provision.json', '--json'])) as Plan;
    expect(guestPlan).toEqual(plan);
    await ok(n, ['provision', 'partition', '--input', '/tmp/provision.json'], 600_000);
    const verify = JSON.parse(await ok(n, ['provision', 'verify', '--input', '/tmp/provision.json', '--json'])) as { ok: boolean; items: { ok: boolean }[] };
    expect(verify.items.filter((i) => !i.ok)).toEqual([]);
    expect(verify.ok).toBe(true);

    const after = await snapshot();
    for (const d of plan.parteds) {
      for (const p of d.partitions) {
        const was = before.parts.get(p.device)!;
        const is = after.parts.get(p.device)!;
        if (p.keepData) expect(is, p.device).toEqual(was);
        else {
          expect({ first: is.first, last: is.last }, p.device).toEqual({ first: was.first, last: was.last });
          expect(is.uniqueGuid, p.device).not.toBe(was.uniqueGuid);
        }
      }
    }
    for (const f of plan.fss) {
      const is = after.fsUuid.get(f.device);
      if (f.keepData) expect(is, f.device).toBe(before.fsUuid.get(f.device));
      else {
        expect(is, f.device).toBeDefined();
        expect(is, `${f.device} re-made`).not.toBe(before.fsUuid.get(f.device));
      }
    }
    for (const [i, dev] of keptFs.entries()) {
      const mnt = `/mnt/keep${i}`;
      await ok(n, ['mount', '-o', 'ro', dev, mnt]);
      const files = [...payload.keys()].filter((k) => k.startsWith(`${mnt}/`));
      const out = await ok(n, ['sha256sum', ...files]);
      await ok(n, ['umount', mnt]);
      const sums = Object.fromEntries(out.trim().split('\n').map((l) => l.trim().split(/\s+/).reverse()));
      expect(sums).toEqual(Object.fromEntries(files.map((f) => [f, sha256(payload.get(f)!)])));
    }
  }, 1_200_000);
});
