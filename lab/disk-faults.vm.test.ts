// Hardware faults under the agent, in a VM booted from the bootstrap ramdisk
// (issue 16): QEMU's own fault injection (blkdebug, throttle; lab/vm/blockdev.ts).
// One node, four disks, one fault each; each case provisions one of them (data for
// that disk only, as an operator would send it): a bad sector under the image stops
// the image step with IMAGE_WRITE_FAILED naming the device and the offset, and
// leaves a target nothing can mount; a disk whose flushes fail stops partitioning
// with TOOL_FAILED naming the command; a disk slowed to 2 MiB/s makes the run slow
// but never trips the agent's (short) network stall timer; a disk pulled out
// mid-image (PCIe hot-unplug) ends in DISK_CHANGED naming what vanished, not a hang.
// One boot instead of four: the faults sit on disks the other cases never touch.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../agent/core/runner.js';
import { ensureBootstrap } from '../agent/host/artifacts.js';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { labScenario, retargetToVm, vmInventory } from './scenario.js';
import { bootVmNode, type RunInVmDisk, type VmNode } from './vm/run-in-vm.js';
import type { StartedVm } from './vm/qemu.js';
import { imageProgress } from './orchestrator.js';
import { publishSmallRootImage } from './testing/small-root-image.js';

const MiB = 2 ** 20;
const IMAGE = 'faults-root.img.gz';
const IMAGE_MIB = 48;
const runner = new ExecaRunner();
const work = mkdtempSync(join(tmpdir(), 'forge-faults-'));
const images = join(work, 'images');

type Fault = 'badSector' | 'flushFails' | 'slow' | 'pulled';
/** The node's disks in PCI order; the pullable one last (behind its own root port, it probes last). */
const FAULTS: readonly Fault[] = ['badSector', 'flushFails', 'slow', 'pulled'];
const SPECS: RunInVmDisk[] = FAULTS.map((f) => ({ sizeMiB: 4096, serial: `faulty-${f}` }));
const SLOW = 2 * MiB;
const badAt = (beginMiB: number): number => (beginMiB + 16) * MiB + 4096;

/** single-disk's data on VM disk `i` alone, the test image on / (its partition and start, from the plan). */
function caseFor(i: number, imagesUrl: string): { data: Record<string, any>; root: { device: string; beginMiB: number } } {
  const data = retargetToVm(labScenario('single-disk').doc, SPECS, [i]);
  data['ks_meta'].image_data = { '/': { uri: `${imagesUrl}/${IMAGE}`, format: 'ext4', container: 'gzip' } };
  const plan = buildPlan(parseProvisionData(data), vmInventory(SPECS));
  const fs = plan.fss.find((f) => f.mount === '/');
  const part = plan.parteds.flatMap((d) => d.partitions).find((p) => p.device === fs?.device);
  if (!fs || !part) throw new Error('single-disk has no / partition');
  return { data, root: { device: part.device, beginMiB: part.begin } };
}

/** Each disk's fault; the plan's offsets do not depend on them (read from the fault-free data). */
function faultsOf(f: Fault, i: number): Pick<RunInVmDisk, 'faults' | 'hotplug'> {
  if (f === 'badSector') return { faults: { eio: [{ on: 'write', atByte: badAt(caseFor(i, 'http://lab.invalid').root.beginMiB) }] } };
  if (f === 'flushFails') return { faults: { eio: [{ on: 'flush' }] } };
  if (f === 'slow') return { faults: { writeBytesPerSec: SLOW } };
  return { faults: { writeBytesPerSec: 4 * MiB }, hotplug: true };
}

let node: VmNode | undefined;

interface Options {
  imageArgs?: string[];
  /** Sees each line the image step logs, with the VM (to pull its disk). */
  onImageLine?: (line: string, vm: StartedVm) => void;
}

/** Provisions the node's disk with `fault` (partition, then image); what each step said. */
async function provisionOn(fault: Fault, o: Options = {}) {
  if (!node) throw new Error('the node did not boot');
  const vmNode = node;
  const { data, root } = caseFor(FAULTS.indexOf(fault), vmNode.imagesUrl);
  await vmNode.upload('/tmp/provision.json', JSON.stringify(data));
  const steps: { step: string; exitCode: number; stderr: string; stdout: string; ms: number }[] = [];
  for (const [step, argv] of [
    ['partition', ['provision', 'partition', '--input', '/tmp/provision.json']],
    ['image', ['provision', 'image', '--input', '/tmp/provision.json', '--json', ...(o.imageArgs ?? [])]],
  ] as const) {
    const t0 = Date.now();
    const onLine = o.onImageLine;
    const r = await vmNode.run([...argv], { timeoutMs: 15 * 60_000, ...(step === 'image' && onLine ? { onLog: (l: string) => onLine(l, vmNode.vm) } : {}) });
    steps.push({ step, exitCode: r.exitCode, stderr: r.stderrTail, stdout: r.stdout, ms: Date.now() - t0 });
    if (r.exitCode !== 0) break;
  }
  // What is left on the target: a signature blkid would mount, or none.
  const blkid = await vmNode.run(['blkid', '-p', root.device]);
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
  node = await bootVmNode({ disks: SPECS.map((d, i) => ({ ...d, ...faultsOf(FAULTS[i] as Fault, i) })), imagesDir: images, runner });
}, 30 * 60_000);
afterAll(async () => {
  await node?.dispose();
  rmSync(work, { recursive: true, force: true });
});

describe('disk faults under the agent (VM, QEMU fault injection)', () => {
  it('a bad sector 16 MiB into the root partition: IMAGE_WRITE_FAILED naming the device and the offset; the half-written target has no signature', async () => {
    const r = await provisionOn('badSector');
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
    const r = await provisionOn('flushFails');
    expect(r.steps).toHaveLength(1);
    const part = r.steps[0];
    expect(part?.exitCode).not.toBe(0);
    expect(part?.stderr).toMatch(/error \[TOOL_FAILED\] .*\b(sgdisk|wipefs|mkfs\.\w+|partprobe|blockdev|dd|sync|udevadm|parted|mdadm|lvm|pvcreate|vgcreate|lvcreate)\b/);
  }, 20 * 60_000);

  it('a disk slowed to 2 MiB/s: the image takes as long as the disk needs, and a 5 s stall timer never trips', async () => {
    const rate = SLOW;
    const r = await provisionOn('slow', { imageArgs: ['--stall-timeout', '5'] });
    expect(r.steps.map((s) => [s.step, s.exitCode, s.stderr.includes('STALL') ? s.stderr.slice(-500) : ''])).toEqual([['partition', 0, ''], ['image', 0, '']]);
    const reports = JSON.parse(r.steps[1]?.stdout ?? '[]') as { verified?: boolean; bytes?: number }[];
    expect(reports[0]).toMatchObject({ verified: true, bytes: IMAGE_MIB * MiB });
    // The whole image went through the throttled disk: at least its size over the rate.
    expect(r.steps[1]?.ms).toBeGreaterThan(((IMAGE_MIB * MiB) / rate) * 1000 * 0.8);
    expect(r.blkid).toMatch(/(^|\s)TYPE="ext4"/);
  }, 20 * 60_000);

  it('the disk pulled out at 25 % of the image (PCIe hot-unplug): DISK_CHANGED naming what vanished, no hang', async () => {
    let pulled: Promise<void> | undefined;
    const r = await provisionOn('pulled', {
      onImageLine: (l, vm) => {
        if (!pulled && (imageProgress(l) ?? 0) >= 25) pulled = vm.detachDisk(FAULTS.indexOf('pulled'));
      },
    });
    await pulled;
    expect(pulled).toBeDefined();
    expect(r.steps.map((s) => [s.step, s.exitCode === 0])).toEqual([['partition', true], ['image', false]]);
    expect(r.steps[1]?.stderr).toMatch(/error \[DISK_CHANGED\] .*the disk went away while the image was written \((\/dev\/)?vdd\d* is gone/);
  }, 20 * 60_000);
});
