// System test: the Swift and Ceph OSD scenarios provisioned on loop devices with
// `provision partition`, checked by `provision verify` and, independently, by
// sfdisk and blkid run here: each storage partition carries its data's type GUID,
// OSD data and journals no filesystem, Swift partitions xfs. Ceph goes over the
// Swift layout, whose xfs sits exactly where the journal and an OSD now start:
// a stale signature there would show. Partition-only (no device-mapper here): the
// OS PV becomes a plain `/` partition of the same size; storage volumes stay as sent.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../core/runner.js';
import { loadScenario, retargetScenario, type ScenarioName } from '../plan/fixtures.js';
import { parseProvisionData } from '../schema/load.js';
import { runCli as cli } from '../testing/cli/run-cli.js';
import { createLoopDisks, type LoopDisk } from '../testing/loop-disks.js';
import { ownLeaks, partDevice } from './test-layouts.js';

const OSD_GUID = '4fbd7e29-9d25-41b8-afd0-062c0ceff05d';
const JOURNAL_GUID = '45b0969e-9b03-4f30-b4c6-b4b80ceff106';
const SWIFT_GUID = 'deadbeef-9d34-4175-8ded-1ce68967a5ee';
const TAG = 'stor';
const runner = new ExecaRunner();

/** The scenario with its OS PV turned into a plain `/` partition and its VGs dropped, on `disks`. */
async function onLoops(name: ScenarioName, disks: readonly LoopDisk[], dir: string): Promise<string[]> {
  const { data, inventory } = await loadScenario(name);
  const doc = structuredClone(data) as any;
  const spaces = doc.ks_meta.pm_data.ks_spaces as any[];
  doc.ks_meta.pm_data.ks_spaces = spaces
    .filter((s) => s.type === 'disk')
    .map((s) => ({
      ...s,
      volumes: s.volumes.flatMap((v: any) =>
        v.type !== 'pv' ? [v] : v.size > 0 && v.vg === 'os' ? [{ type: 'partition', name: 'root', mount: '/', file_system: 'ext4', size: v.size }] : [],
      ),
    }));
  const r = retargetScenario(parseProvisionData(doc), inventory, disks.slice(0, inventory.disks.length).map((d) => ({ path: d.device, size: d.sizeMiB * 2 ** 20 })));
  const input = join(dir, `${name}.json`);
  const inv = join(dir, `${name}.inventory.json`);
  await writeFile(input, JSON.stringify(r.data));
  await writeFile(inv, JSON.stringify(r.inventory));
  return ['--input', input, '--inventory', inv];
}

interface Seen {
  parttype: string;
  partlabel: string | null;
  fstype: string | null;
}

/**
 * The oracle: the table as sfdisk reads it (not sgdisk, which wrote it) and the
 * signature blkid's low-level probe finds, parsed here rather than by verify.
 * lsblk would be the natural tool, but without udevd its libudev finds the
 * device in sysfs with no properties and never falls back to probing: PARTTYPE
 * and FSTYPE stay empty on this host.
 */
async function seen(disk: string): Promise<Map<string, Seen>> {
  const r = await runner.run(['sfdisk', '--json', disk], { readOnly: true });
  const table = JSON.parse(r.stdout) as { partitiontable: { partitions?: { node: string; type: string; name?: string }[] } };
  const out = new Map<string, Seen>();
  for (const p of table.partitiontable.partitions ?? []) {
    const b = await runner.run(['blkid', '-p', '-s', 'TYPE', '-o', 'value', p.node], { readOnly: true, okExitCodes: [0, 2] });
    out.set(p.node, { parttype: p.type.toLowerCase(), partlabel: p.name ?? null, fstype: b.stdout.trim() || null });
  }
  return out;
}

async function provisionAndVerify(args: string[]): Promise<{ items: { kind: string; id: string; ok: boolean }[] }> {
  const p = await cli(['partition', ...args]);
  expect(p.code, p.err).toBe(0);
  const v = await cli(['verify', ...args, '--before-images', '--json']);
  expect(v.code, v.out).toBe(0);
  return JSON.parse(v.out) as { items: { kind: string; id: string; ok: boolean }[] };
}

describe('storage-node layouts on loop devices', () => {
  afterAll(async () => {
    expect(await ownLeaks([TAG])).toEqual({ loops: [], vgs: [], mds: [] });
  });

  it('Swift, then Ceph OSD over it: type GUIDs as sent, xfs on Swift, nothing on OSD data and journals', async () => {
    await using disks = await createLoopDisks([4096, 2048, 2048].map((sizeMiB) => ({ sizeMiB, tag: TAG })));
    const [a, b, c] = disks.map((d) => d.device) as [string, string, string];
    const dir = await mkdtemp(join(tmpdir(), 'forge-storage-'));
    try {
      // Swift: xfs made on each swift partition (not mounted anywhere: there is no fstab here to check).
      await provisionAndVerify(await onLoops('swift-storage', disks, dir));
      for (const dev of [partDevice(a, 5), partDevice(b, 3)]) {
        expect((await seen(dev.replace(/p\d+$/, ''))).get(dev)).toMatchObject({ parttype: SWIFT_GUID, partlabel: 'swift-storage', fstype: 'xfs' });
      }

      // Ceph over it: the journal (a5) and the OSD (b3) start where Swift's xfs did.
      const ceph = await onLoops('ceph-osd', disks, dir);
      const res = await provisionAndVerify(ceph);
      // verify itself looked at the raw partitions, and found no signature on them.
      expect(res.items.filter((i) => i.kind === 'fs' && [partDevice(a, 5), partDevice(a, 6), partDevice(b, 3), partDevice(c, 3)].includes(i.id)).map((i) => i.ok)).toEqual([true, true, true, true]);
      const sa = await seen(a);
      for (const n of [5, 6]) {
        expect(sa.get(partDevice(a, n))).toMatchObject({ parttype: JOURNAL_GUID, partlabel: 'cephjournal', fstype: null });
      }
      for (const disk of [b, c]) {
        expect((await seen(disk)).get(partDevice(disk, 3))).toMatchObject({ parttype: OSD_GUID, partlabel: 'ceph', fstype: null });
      }
      // The OS partitions keep their own types: /boot ext2 made by mkfs, / left for the image.
      expect(sa.get(partDevice(a, 3))).toMatchObject({ fstype: 'ext2' });
      expect([...sa.keys()]).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => partDevice(a, n)));

      // A filesystem where none belongs is a verify failure, named field by field.
      await runner.run(['mkfs.ext4', '-F', '-q', partDevice(a, 6)]);
      const bad = await cli(['verify', ...ceph, '--before-images']);
      expect(bad.code).toBe(1);
      expect(bad.out).toContain(`✗ fs ${partDevice(a, 6)}: type expected null, actual "ext4"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
