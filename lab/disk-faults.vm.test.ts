// Hardware faults under the agent, in a VM booted from the bootstrap ramdisk
// (issue 16): QEMU's own fault injection (blkdebug, throttle; lab/vm/blockdev.ts)
// under the node's only disk. A bad sector under the image stops the image step
// with IMAGE_WRITE_FAILED naming the device and the offset, and leaves a target
// nothing can mount; a disk whose flushes fail stops partitioning with
// TOOL_FAILED naming the command; a disk slowed to 2 MiB/s makes the run slow but
// never trips the agent's (short) network stall timer; a disk pulled out mid-image
// (PCIe hot-unplug) ends in DISK_CHANGED naming what vanished, not a hang.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../agent/core/runner.js';
import { ensureBootstrap } from '../agent/host/artifacts.js';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { labScenario, retargetToVm, vmInventory } from './scenario.js';
import type { DiskFaults } from './vm/blockdev.js';
import { bootVmNode, type RunInVmDisk } from './vm/run-in-vm.js';
import type { StartedVm } from './vm/qemu.js';
import { imageProgress } from './orchestrator.js';
import { publishSmallRootImage } from './testing/small-root-image.js';

const MiB = 2 ** 20;
const IMAGE = 'faults-root.img.gz';
const IMAGE_MIB = 48;
const runner = new ExecaRunner();
const work = mkdtempSync(join(tmpdir(), 'forge-faults-'));
const images = join(work, 'images');

/** single-disk's data on one VM disk, the test image on / (its partition and start, from the plan). */
function caseFor(disks: RunInVmDisk[], imagesUrl: string): { data: Record<string, any>; root: { device: string; beginMiB: number } } {
  const vmDisks = disks.map((d) => ({ sizeMiB: d.sizeMiB, ...(d.serial ? { serial: d.serial } : {}) }));
  const data = retargetToVm(labScenario('single-disk').doc, vmDisks);
  data['ks_meta'].image_data = { '/': { uri: `${imagesUrl}/${IMAGE}`, format: 'ext4', container: 'gzip' } };
  const plan = buildPlan(parseProvisionData(data), vmInventory(vmDisks));
  const fs = plan.fss.find((f) => f.mount === '/');
  const part = plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === fs?.device);
  if (!fs || !part) throw new Error('single-disk has no / partition');
  return { data, root: { device: part.device, beginMiB: part.begin } };
}

interface Options {
  imageArgs?: string[];
  hotplug?: boolean;
  /** Sees each line the image step logs, with the VM (to pull its disk). */
  onImageLine?: (line: string, vm: StartedVm) => void;
}

/** Boots a node on one 4 GiB disk with `faults`, runs partition then image; what each step said. */
async function provisionOn(faults: (root: { beginMiB: number }) => DiskFaults | undefined, o: Options = {}) {
  // The plan's offsets do not depend on the faults: read them from a fault-free disk description first.
  const probe = caseFor([{ sizeMiB: 4096, serial: 'faulty-0' }], 'http://lab.invalid');
  const f = faults(probe.root);
  const disks: RunInVmDisk[] = [{ sizeMiB: 4096, serial: 'faulty-0', ...(f ? { faults: f } : {}), ...(o.hotplug ? { hotplug: true } : {}) }];
  await using node = await bootVmNode({ disks, imagesDir: images, runner });
  const { data, root } = caseFor(disks, node.imagesUrl);
  await node.upload('/tmp/provision.json', JSON.stringify(data));
  const steps: { step: string; exitCode: number; stderr: string; stdout: string; ms: number }[] = [];
  for (const [step, argv] of [
    ['partition', ['provision', 'partition', '--input', '/tmp/provision.json']],
    ['image', ['provision', 'image', '--input', '/tmp/provision.json', '--json', ...(o.imageArgs ?? [])]],
  ] as const) {
    const t0 = Date.now();
    const onLine = o.onImageLine;
    const r = await node.run([...argv], { timeoutMs: 15 * 60_000, ...(step === 'image' && onLine ? { onLog: (l: string) => onLine(l, node.vm) } : {}) });
    steps.push({ step, exitCode: r.exitCode, stderr: r.stderrTail, stdout: r.stdout, ms: Date.now() - t0 });
    if (r.exitCode !== 0) break;
  }
  // What is left on the target: a signature blkid would mount, or none.
  const blkid = await node.run(['blkid', '-p', root.device]);
  return { steps, root, blkid: blkid.stdout };
}

beforeAll(async () => {
  await ensureBootstrap();
  // A real ext4 root, filled past the bad sector so its bytes are really written there.
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'data'), { recursive: true });
  writeFileSync(join(tree, 'data', 'filler'), Buffer.alloc(36 * MiB, 0x5a));
  mkdirSync(images, { recursive: true });
  await publishSmallRootImage(runner, { tree, imagesDir: images, name: IMAGE, sizeMiB: IMAGE_MIB });
}, 30 * 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('disk faults under the agent (VM, QEMU fault injection)', () => {
  it('a bad sector 16 MiB into the root partition: IMAGE_WRITE_FAILED naming the device and the offset; the half-written target has no signature', async () => {
    const badAt = (beginMiB: number): number => (beginMiB + 16) * MiB + 4096;
    const r = await provisionOn((root) => ({ eio: [{ on: 'write', atByte: badAt(root.beginMiB) }] }));
    expect(r.steps.map((s) => [s.step, s.exitCode === 0])).toEqual([['partition', true], ['image', false]]);
    const image = r.steps[1];
    expect(image?.stderr).toContain('IMAGE_WRITE_FAILED');
    expect(image?.stderr).toContain(r.root.device);
    const offset = Number(/at device offset (\d+) failed: EIO/.exec(image?.stderr ?? '')?.[1]);
    // The failing block holds the bad byte: it starts at or before it, less than a block (≤ 8 MiB) earlier.
    const bad = badAt(r.root.beginMiB) - r.root.beginMiB * MiB;
    expect(offset).toBeLessThanOrEqual(bad);
    expect(bad - offset).toBeLessThan(8 * MiB);
    // The first MiB rule: nothing on the target a bootloader or mount would trust.
    // (On a partition blkid still reports the GPT entry; no TYPE= means no filesystem signature.)
    expect(r.blkid).not.toMatch(/(^|\s)TYPE="/);
    expect(r.blkid).toContain('PART_ENTRY_SCHEME="gpt"');
  }, 20 * 60_000);

  it('a disk whose cache flushes fail: partitioning stops with TOOL_FAILED naming the command, before any image byte', async () => {
    const r = await provisionOn(() => ({ eio: [{ on: 'flush' }] }));
    expect(r.steps).toHaveLength(1);
    const part = r.steps[0];
    expect(part?.exitCode).not.toBe(0);
    expect(part?.stderr).toMatch(/error \[TOOL_FAILED\] .*\b(sgdisk|wipefs|mkfs\.\w+|partprobe|blockdev|dd|sync|udevadm|parted|mdadm|lvm|pvcreate|vgcreate|lvcreate)\b/);
  }, 20 * 60_000);

  it('a disk slowed to 2 MiB/s: the image takes as long as the disk needs, and a 5 s stall timer never trips', async () => {
    const rate = 2 * MiB;
    const r = await provisionOn(() => ({ writeBytesPerSec: rate }), { imageArgs: ['--stall-timeout', '5'] });
    expect(r.steps.map((s) => [s.step, s.exitCode, s.stderr.includes('STALL') ? s.stderr.slice(-500) : ''])).toEqual([['partition', 0, ''], ['image', 0, '']]);
    const reports = JSON.parse(r.steps[1]?.stdout ?? '[]') as { verified?: boolean; bytes?: number }[];
    expect(reports[0]).toMatchObject({ verified: true, bytes: IMAGE_MIB * MiB });
    // The whole image went through the throttled disk: at least its size over the rate.
    expect(r.steps[1]?.ms).toBeGreaterThan(((IMAGE_MIB * MiB) / rate) * 1000 * 0.8);
    expect(r.blkid).toMatch(/(^|\s)TYPE="ext4"/);
  }, 20 * 60_000);

  it('the disk pulled out at 25 % of the image (PCIe hot-unplug): DISK_CHANGED naming what vanished, no hang', async () => {
    let pulled: Promise<void> | undefined;
    const r = await provisionOn(() => ({ writeBytesPerSec: 4 * MiB }), {
      hotplug: true,
      onImageLine: (l, vm) => {
        if (!pulled && (imageProgress(l) ?? 0) >= 25) pulled = vm.detachDisk(0);
      },
    });
    await pulled;
    expect(pulled).toBeDefined();
    expect(r.steps.map((s) => [s.step, s.exitCode === 0])).toEqual([['partition', true], ['image', false]]);
    expect(r.steps[1]?.stderr).toMatch(/error \[DISK_CHANGED\] .*the disk went away while the image was written \((\/dev\/)?vda\d* is gone/);
  }, 20 * 60_000);
});
