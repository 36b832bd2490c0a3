// Records what the real tools print for `verifyPlan`, so agent/verify/verify.test.ts
// can run without root against real output (the oracle is util-linux/LVM, not us).
// Test support: nothing in the agent imports this file.
//
//   sudo npx tsx agent/verify/record-tool-output.ts     # rewrites fixtures/tool-output/verify/
//
// Lays out two loop devices BY HAND (sgdisk, mkfs.*, pvcreate/vgcreate — not our
// executor, so a shared misunderstanding cannot hide), then runs verifyPlan on the
// layout's plan through a runner that saves every command and its output, plus
// `blkid -p` of every partition and `sfdisk --json` of a blank disk, so altered
// plans in the test find theirs too.
// Needs root and loop devices only: LVs and MD arrays are not recorded (the development
// host has no device-mapper or md; agent/partition/execute.unit.test.ts covers their argv).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { silentLogger } from '../core/log.js';
import { ExecaRunner, type RunOptions, type RunResult } from '../core/runner.js';
import { partDevice, testPlan, type TestDisk } from '../partition/test-layouts.js';
import type { Plan } from '../plan/types.js';
import { createLoopDisk, type LoopDisk } from '../testing/loop-disks.js';
import { blkidProbeArgv } from '../tools/blkid.js';
import { dumpJsonArgv } from '../tools/sfdisk.js';
import { verifyPlan } from './verify.js';

export const FIXTURE_DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'tool-output', 'verify');
export const VG = 'vrec';
/** LVM metadata area asked of pvcreate, MiB. */
export const PV_METADATA_MIB = 4;

/** The recorded layout. `a`: 1 GiB, 512-byte sectors; `b`: 256 MiB, 4096-byte sectors (`blank`, 16 MiB, stays untouched). */
export function layout(a: string, b: string): TestDisk[] {
  return [
    {
      device: a,
      sizeMiB: 1024,
      sectorSize: 512,
      parts: [
        { size: 1, flags: ['bios_grub'], name: 'bios_grub' },
        { size: 200, flags: ['boot'], name: 'boot', fs: { type: 'ext4', label: 'boot', mount: '/boot' } },
        { size: 300, name: 'data', fs: { type: 'xfs', label: 'data', mount: '/srv' } },
        { size: 64, name: 'swap', fs: { type: 'swap', label: 'swap1' } },
        { size: 100, flags: ['lvm'], name: 'pv' },
        { size: 32, flags: ['esp'], name: 'esp', fs: { type: 'vfat', label: 'efi', mount: '/boot/efi' } },
        { size: 16, name: 'ceph' }, // raw: planned to carry no signature
      ],
    },
    {
      device: b,
      sizeMiB: 256,
      sectorSize: 4096,
      parts: [
        { size: 100, name: 'root', fs: { type: 'ext4', label: 'root4k', mount: '/' } },
        // Filled by an image later: the recording has nothing on it.
        { size: 64, name: 'var', fs: { type: 'ext4', mount: '/var', fromImage: true } },
      ],
    },
  ];
}

export function layoutPlan(a: string, b: string): Plan {
  const pv = partDevice(a, 5);
  return testPlan(layout(a, b), {
    pvs: [{ device: pv, vg: VG, metadataSize: PV_METADATA_MIB, keepData: false }],
    vgs: [{ name: VG, pvs: [pv], keepData: false }],
  });
}

export interface RecordedCall {
  argv: string[];
  exitCode: number;
  /** File in FIXTURE_DIR holding the stdout byte for byte. */
  stdout: string;
  stderr: string;
}

export interface Recording {
  /** The loop devices the layout was recorded on (their names are in the output). */
  devices: { a: string; b: string; blank: string };
  tools: Record<string, string>;
  calls: RecordedCall[];
}

const SGDISK_TYPE: Record<string, string> = { bios_grub: 'EF02', esp: 'EF00', lvm: '8E00' };

/** sgdisk/mkfs/LVM argv that lay `disks` out, written independently of agent/partition. */
function layoutArgv(disks: readonly TestDisk[]): string[][] {
  const out: string[][] = [];
  for (const d of disks) {
    const perMiB = (1024 * 1024) / d.sectorSize;
    const gpt = ['sgdisk', '--zap-all', '--clear'];
    let at = 1;
    d.parts.forEach((p, i) => {
      const n = i + 1;
      const first = at * perMiB;
      const last = (at + p.size) * perMiB - 1;
      at += p.size;
      const code = SGDISK_TYPE[p.flags?.find((f) => f in SGDISK_TYPE) ?? ''] ?? '8300';
      gpt.push(`--new=${n}:${first}:${last}`, `--typecode=${n}:${code}`, `--change-name=${n}:${p.name}`);
      if (p.flags?.includes('boot')) gpt.push(`--attributes=${n}:set:2`);
    });
    out.push([...gpt, d.device]);
    out.push(['partx', '--update', d.device]);
    d.parts.forEach((p, i) => {
      const dev = partDevice(d.device, i + 1);
      const fs = p.fs;
      if (p.flags?.includes('lvm')) {
        out.push(['pvcreate', '--yes', '--metadatasize', `${PV_METADATA_MIB}m`, dev]);
        out.push(['vgcreate', '--yes', VG, dev]);
      }
      if (!fs || fs.fromImage) return;
      if (fs.type === 'ext4') out.push(['mkfs.ext4', '-q', '-F', ...(fs.label ? ['-L', fs.label] : []), dev]);
      if (fs.type === 'xfs') out.push(['mkfs.xfs', '-q', '-f', ...(fs.label ? ['-L', fs.label] : []), dev]);
      if (fs.type === 'swap') out.push(['mkswap', ...(fs.label ? ['-L', fs.label] : []), dev]);
      if (fs.type === 'vfat') out.push(['mkfs.vfat', ...(fs.label ? ['-n', fs.label] : []), dev]);
    });
  }
  return out;
}

/** A real runner that keeps every command it ran and what it printed. */
class CapturingRunner extends ExecaRunner {
  readonly seen: RunResult[] = [];
  override async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const r = await super.run(argv, opts);
    this.seen.push(r);
    return r;
  }
}

function fileNameFor(argv: readonly string[], used: Set<string>): string {
  const base = argv.join('_').replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/-+/g, '-').slice(0, 80);
  let name = `${base}.out`;
  for (let i = 2; used.has(name); i++) name = `${base}-${i}.out`;
  used.add(name);
  return name;
}

async function main(): Promise<void> {
  const real = new ExecaRunner();
  const disks: LoopDisk[] = [];
  try {
    disks.push(await createLoopDisk({ sizeMiB: 1024, sectorSize: 512, tag: 'vrec' }));
    disks.push(await createLoopDisk({ sizeMiB: 256, sectorSize: 4096, tag: 'vrec' }));
    // A blank disk (no partition table at all): what a plan's disk looks like after a wipe.
    disks.push(await createLoopDisk({ sizeMiB: 16, sectorSize: 512, tag: 'vrec' }));
    const [a, b, blank] = disks.map((d) => d.device) as [string, string, string];
    const disksLayout = layout(a, b);
    for (const argv of layoutArgv(disksLayout)) await real.run(argv, { timeoutMs: 120_000, env: { LVM_SUPPRESS_FD_WARNINGS: '1' } });
    await real.run(['udevadm', 'settle'], { okExitCodes: [0, 1] }).catch(() => undefined);

    const capture = new CapturingRunner();
    const ctx = createCtx({ runner: capture, log: silentLogger });
    const result = await verifyPlan(ctx, layoutPlan(a, b));
    // Only the image-filled partition (nothing on it yet) may differ.
    const unexpected = result.items.filter((i) => !i.ok && i.id !== partDevice(b, 2));
    if (unexpected.length) throw new ForgeError('VERIFY_MISMATCH', `the hand-made layout does not verify:\n${JSON.stringify(unexpected, null, 2)}`);
    for (const d of disksLayout) {
      for (let n = 1; n <= d.parts.length; n++) {
        await capture.run(blkidProbeArgv(partDevice(d.device, n)), { readOnly: true, okExitCodes: [0, 2] });
      }
    }
    await capture.run(dumpJsonArgv(blank), { readOnly: true, okExitCodes: [0, 1] });

    rmSync(FIXTURE_DIR, { recursive: true, force: true });
    mkdirSync(FIXTURE_DIR, { recursive: true });
    const used = new Set<string>();
    const calls: RecordedCall[] = [];
    const seenKeys = new Set<string>();
    for (const r of capture.seen) {
      const key = JSON.stringify(r.argv);
      if (seenKeys.has(key)) continue;
      seenKeys.add(key);
      const stdout = fileNameFor(r.argv, used);
      writeFileSync(join(FIXTURE_DIR, stdout), r.stdout);
      calls.push({ argv: [...r.argv], exitCode: r.exitCode, stdout, stderr: r.stderr });
    }
    const version = async (argv: string[]): Promise<string> => (await real.run(argv)).stdout.split('\n')[0]!.trim();
    const recording: Recording = {
      devices: { a, b, blank },
      tools: {
        sfdisk: await version(['sfdisk', '--version']),
        blkid: await version(['blkid', '--version']),
        lvm: await version(['lvm', 'version']),
        kernel: await version(['uname', '-r']),
      },
      calls,
    };
    writeFileSync(join(FIXTURE_DIR, 'recording.json'), JSON.stringify(recording, null, 2) + '\n');
    process.stdout.write(`recorded ${calls.length} commands into ${FIXTURE_DIR}: ${readdirSync(FIXTURE_DIR).length} files\n`);
  } finally {
    for (const d of disks.reverse()) await d.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
