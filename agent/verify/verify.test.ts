// verifyPlan on recorded real tool output (fixtures/tool-output/verify, written by
// record-tool-output.ts from loop devices laid out by hand with sgdisk/mkfs/LVM):
// sfdisk's JSON, blkid's export lines and LVM's JSON reports exactly as the tools
// printed them. The layout's own plan verifies; plans that differ from the disks
// in one way each fail on exactly that item and field. No root, no devices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { partDevice } from '../partition/test-layouts.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { formatDiff } from './compare.js';
import { FIXTURE_DIR, layoutPlan, PV_METADATA_MIB, VG, type Recording } from './record-tool-output.js';
import type { VerifyItem, VerifyOptions } from './types.js';
import { verifyPlan } from './verify.js';

const recording = JSON.parse(readFileSync(join(FIXTURE_DIR, 'recording.json'), 'utf8')) as Recording;
const { a, b, blank } = recording.devices;
const outputs = new Map(
  recording.calls.map((c) => [JSON.stringify(c.argv), { exitCode: c.exitCode, stderr: c.stderr, stdout: readFileSync(join(FIXTURE_DIR, c.stdout), 'utf8') }]),
);

/** Replays the recording; a command it does not hold fails the test (re-record). */
function replayRunner(): RecordingRunner {
  return new RecordingRunner({
    respond: (argv) => {
      const r = outputs.get(JSON.stringify(argv));
      if (!r) throw new Error(`not in the recording (run agent/verify/record-tool-output.ts): ${argv.join(' ')}`);
      return r;
    },
  });
}

async function verify(plan: Plan, opts: VerifyOptions = { skipImageFilesystems: true }) {
  const runner = replayRunner();
  const result = await verifyPlan(createCtx({ runner, log: silentLogger }), plan, opts);
  // verify only reads: every command it ran was a read-only probe.
  expect(runner.planned).toEqual([]);
  return { ...result, failed: result.items.filter((i) => !i.ok), runner };
}

const item = (items: readonly VerifyItem[], kind: VerifyItem['kind'], id: string): VerifyItem => {
  const found = items.filter((i) => i.kind === kind && i.id === id);
  expect(found, `${kind} ${id}`).toHaveLength(1);
  return found[0]!;
};

const diskOf = (plan: Plan, device: string): PlannedDisk => plan.parteds.find((d) => d.device === device)!;

describe('verifyPlan on recorded sfdisk/blkid/LVM output', () => {
  it('the layout the disks were made from verifies, item by item, as the tools reported it', async () => {
    const r = await verify(layoutPlan(a, b));
    expect(formatDiff(r.items)).toBe('');
    expect(r.ok).toBe(true);
    expect(r.items.map((i) => `${i.kind} ${i.id}`)).toEqual([
      `disk ${a}`, ...[1, 2, 3, 4, 5, 6, 7].map((n) => `partition ${partDevice(a, n)}`),
      `disk ${b}`, `partition ${partDevice(b, 1)}`, `partition ${partDevice(b, 2)}`,
      `pv ${partDevice(a, 5)}`, `vg ${VG}`,
      `fs ${partDevice(a, 2)}`, `fs ${partDevice(a, 3)}`, `fs ${partDevice(a, 4)}`, `fs ${partDevice(a, 6)}`, `fs ${partDevice(b, 1)}`, `fs ${partDevice(b, 2)}`,
      `fs ${partDevice(a, 7)}`,
    ]);
    // What the tools said, as verify read it: sectors of each disk's own size,
    // sfdisk's upper-case type GUIDs, the legacy-BIOS attribute, blkid's types.
    expect(item(r.items, 'disk', b).actual).toEqual({ label: 'gpt', sectorSize: 4096 });
    expect(item(r.items, 'partition', partDevice(a, 2)).actual).toEqual({
      start: 4096, size: 409600, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', name: 'boot', legacyBoot: true,
    });
    expect(item(r.items, 'partition', partDevice(b, 1)).actual).toMatchObject({ start: 256, size: 25600 });
    expect(item(r.items, 'fs', partDevice(a, 3)).actual).toEqual({ type: 'xfs', label: 'data' });
    expect(item(r.items, 'fs', partDevice(a, 4)).actual).toEqual({ type: 'swap', label: 'swap1' });
    expect(item(r.items, 'fs', partDevice(a, 6)).actual).toEqual({ type: 'vfat', label: 'efi' });
    // The raw partition: blkid prints its GPT entry but no TYPE.
    expect(item(r.items, 'fs', partDevice(a, 7))).toMatchObject({ expected: { type: null }, actual: { type: null }, ok: true });
    // LVM rounded the 4 MiB metadata area up; verify accepts more, never less.
    expect(item(r.items, 'pv', partDevice(a, 5)).actual).toEqual({ vg: VG, metadataSize: 5 });
    expect(item(r.items, 'vg', VG).actual).toEqual({ pvs: [partDevice(a, 5).replace('/dev/', '')], size: 92 });
    expect(item(r.items, 'fs', partDevice(b, 2)).note).toBe('filled by an image later');
  });

  it('without skipping image filesystems, the partition no image has filled yet is the one failure', async () => {
    const r = await verify(layoutPlan(a, b), {});
    expect(r.ok).toBe(false);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'fs', id: partDevice(b, 2), actual: null, mismatches: ['missing'] })]);
    expect(formatDiff(r.items)).toBe(`✗ fs ${partDevice(b, 2)}: missing, expected {"type":"ext4"}`);
  });

  it('a filesystem of the wrong type', async () => {
    const plan = layoutPlan(a, b);
    plan.fss.find((f) => f.device === partDevice(a, 3))!.type = 'ext4';
    const r = await verify(plan);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'fs', id: partDevice(a, 3), mismatches: ['type'] })]);
    expect(formatDiff(r.items)).toBe(`✗ fs ${partDevice(a, 3)}: type expected "ext4", actual "xfs"`);
  });

  it('a label that differs (vfat labels compare without case, others exactly)', async () => {
    const plan = layoutPlan(a, b);
    plan.fss.find((f) => f.device === partDevice(a, 4))!.label = 'swap';
    plan.fss.find((f) => f.device === partDevice(a, 6))!.label = 'EFI';
    const r = await verify(plan);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'fs', id: partDevice(a, 4), mismatches: ['label'] })]);
  });

  it('a planned partition the disk does not have, and one the plan does not have', async () => {
    const plan = layoutPlan(a, b);
    const disk = diskOf(plan, a);
    const last = disk.partitions.at(-1)!;
    disk.partitions.push({ ...last, num: 8, device: partDevice(a, 8), begin: last.end, end: last.end + 16, name: 'extra', role: '/srv/extra' });
    const r = await verify(plan);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'partition', id: partDevice(a, 8), actual: null, mismatches: ['missing'] })]);

    const fewer = layoutPlan(a, b);
    diskOf(fewer, a).partitions.pop();
    const r2 = await verify(fewer);
    expect(r2.failed).toEqual([
      expect.objectContaining({ kind: 'partition', id: partDevice(a, 7), expected: null, mismatches: ['unexpected'], actual: { start: 1429504, size: 32768, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4' } }),
    ]);
  });

  it('a partition of the wrong size, and one at the wrong place', async () => {
    const plan = layoutPlan(a, b);
    const p3 = diskOf(plan, a).partitions[2]!;
    p3.end += 1;
    p3.size += 1;
    const r = await verify(plan);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'partition', id: partDevice(a, 3), mismatches: ['size'] })]);
    expect(formatDiff(r.items)).toBe(`✗ partition ${partDevice(a, 3)}: size expected ${301 * 2048}, actual ${300 * 2048}`);

    const moved = layoutPlan(a, b);
    const q = diskOf(moved, b).partitions[1]!;
    q.begin += 1;
    q.end += 1;
    expect((await verify(moved)).failed).toEqual([expect.objectContaining({ kind: 'partition', id: partDevice(b, 2), mismatches: ['start'] })]);
  });

  it('a disk planned with the wrong logical sector size: the table and every offset differ', async () => {
    const plan = layoutPlan(a, b);
    diskOf(plan, b).logicalSectorSize = 512;
    const r = await verify(plan);
    expect(r.failed.map((i) => [i.kind, i.id, i.mismatches])).toEqual([
      ['disk', b, ['sectorSize']],
      ['partition', partDevice(b, 1), ['start', 'size']],
      ['partition', partDevice(b, 2), ['start', 'size']],
    ]);
  });

  it('a wrong partition type and a missing legacy-BIOS-bootable attribute', async () => {
    const plan = layoutPlan(a, b);
    const parts = diskOf(plan, a).partitions;
    parts[6]!.flags = ['raid'];
    parts[0]!.flags = ['bios_grub', 'boot'];
    const r = await verify(plan);
    expect(r.failed.map((i) => [i.id, i.mismatches])).toEqual([
      [partDevice(a, 1), ['legacyBoot']],
      [partDevice(a, 7), ['type']],
    ]);
  });

  it('a partition planned raw that still holds a signature', async () => {
    const plan = layoutPlan(a, b);
    plan.fss = plan.fss.filter((f) => f.device !== partDevice(a, 4));
    diskOf(plan, a).partitions[3]!.role = 'none';
    const r = await verify(plan);
    expect(r.failed).toEqual([expect.objectContaining({ kind: 'fs', id: partDevice(a, 4), expected: { type: null }, actual: { type: 'swap' }, mismatches: ['type'] })]);
  });

  it('a disk without a partition table: the disk and its partitions are missing', async () => {
    const plan = layoutPlan(a, b);
    const copy = structuredClone(diskOf(plan, b));
    const p = copy.partitions[0]!;
    plan.parteds.push({ ...copy, device: blank, logicalSectorSize: 512, physicalSectorSize: 512, partitions: [{ ...p, device: partDevice(blank, 1), begin: 1, end: 8, size: 7 }] });
    const r = await verify(plan);
    expect(r.failed.map((i) => [i.kind, i.id, i.mismatches])).toEqual([
      ['disk', blank, ['missing']],
      ['partition', partDevice(blank, 1), ['missing']],
    ]);
  });

  it('LVM: a PV with more metadata than LVM gave it, a VG over other PVs, an LV that is not there', async () => {
    const plan = layoutPlan(a, b);
    plan.pvs[0]!.metadataSize = PV_METADATA_MIB * 2;
    plan.vgs[0]!.pvs = [partDevice(a, 5), partDevice(b, 2)];
    plan.lvs = [{ vg: VG, name: 'root', size: 64, device: `/dev/mapper/${VG}-root`, keepData: false }];
    const r = await verify(plan);
    expect(r.failed.map((i) => [i.kind, i.id, i.mismatches])).toEqual([
      ['pv', partDevice(a, 5), ['metadataSize']],
      ['vg', VG, ['pvs']],
      ['lv', `${VG}/root`, ['missing']],
    ]);
  });
});
