// Real block devices for tests: sparse files attached with `losetup --partscan`.
// Every disk is disposable, and disposal tears down whatever was built on top of
// it (mounts, LVM, MD) before detaching, so a failing test leaks nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecaRunner, type Runner } from '../core/runner.js';

/** Every backing file lives under this prefix, so leak checks find only ours. */
export const LOOP_FILE_PREFIX = 'forge-loop-';

export interface LoopDisk extends AsyncDisposable {
  /** /dev/loopN */
  device: string;
  /** Backing sparse file. */
  file: string;
  sizeMiB: number;
  sectorSize: number;
  /** Detach and delete, tearing down mounts, LVM and MD on it first. Idempotent. */
  dispose(): Promise<void>;
}

export interface LoopDiskOptions {
  sizeMiB: number;
  sectorSize?: 512 | 4096;
  /** Short tag in the backing file name, to tell tests apart in a leak report. */
  tag?: string;
  runner?: Runner;
}

const runnerDefault = new ExecaRunner();

export async function createLoopDisk(opts: LoopDiskOptions): Promise<LoopDisk> {
  const runner = opts.runner ?? runnerDefault;
  const sectorSize = opts.sectorSize ?? 512;
  const dir = mkdtempSync(join(tmpdir(), `${LOOP_FILE_PREFIX}${opts.tag ?? 't'}-`));
  const file = join(dir, 'disk.img');
  const fh = await open(file, 'w');
  await fh.truncate(opts.sizeMiB * 1024 * 1024);
  await fh.close();
  let device: string;
  try {
    const r = await runner.run([
      'losetup', '--find', '--show', '--partscan', '--sector-size', String(sectorSize), file,
    ]);
    device = r.stdout.trim();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  let disposed = false;
  const dispose = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    try {
      await teardownDevice(device, runner);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return { device, file, sizeMiB: opts.sizeMiB, sectorSize, dispose, [Symbol.asyncDispose]: dispose };
}

/** Creates several disks; disposing the set disposes all of them. */
export async function createLoopDisks(
  specs: readonly LoopDiskOptions[],
): Promise<LoopDisk[] & AsyncDisposable & { dispose(): Promise<void> }> {
  const disks: LoopDisk[] = [];
  const dispose = async (): Promise<void> => {
    // Stop every array and VG first: they may span several of the disks.
    const errors: unknown[] = [];
    for (const d of disks.reverse()) {
      try {
        await d.dispose();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  };
  try {
    for (const s of specs) disks.push(await createLoopDisk(s));
  } catch (e) {
    await dispose();
    throw e;
  }
  return Object.assign([...disks], { dispose, [Symbol.asyncDispose]: dispose });
}

interface LsblkNode {
  name: string;
  path?: string;
  type?: string;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

function flatten(nodes: readonly LsblkNode[]): LsblkNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children ?? [])]);
}

/**
 * Tear down everything stacked on a device (mounts, LVM LVs/VGs, MD arrays),
 * then detach it. Tolerates things that are already gone.
 */
export async function teardownDevice(device: string, runner: Runner = runnerDefault): Promise<void> {
  const quiet = { okExitCodes: [0, 1, 2, 3, 4, 5, 32] as const };
  for (let round = 0; round < 3; round++) {
    let tree: LsblkNode[] = [];
    try {
      const r = await runner.run(['lsblk', '--json', '--paths', '-o', 'NAME,PATH,TYPE,MOUNTPOINTS', device], {
        readOnly: true,
      });
      tree = (JSON.parse(r.stdout) as { blockdevices: LsblkNode[] }).blockdevices;
    } catch {
      break; // device already gone
    }
    const nodes = flatten(tree);
    // Deepest first: unmount, then LVs, then arrays.
    for (const n of [...nodes].reverse()) {
      for (const m of n.mountpoints ?? []) {
        if (m && m !== '[SWAP]') await runner.run(['umount', '--lazy', m], quiet);
        if (m === '[SWAP]') await runner.run(['swapoff', n.name], quiet);
      }
    }
    const vgs = new Set<string>();
    for (const n of nodes) {
      if (n.type === 'lvm') {
        const r = await runner.run(['lvs', '--noheadings', '-o', 'vg_name', n.name], { ...quiet, readOnly: true });
        const vg = r.stdout.trim();
        if (vg) vgs.add(vg);
      }
    }
    // PVs without active LVs still belong to a VG we must forget.
    for (const n of nodes) {
      const r = await runner.run(['pvs', '--noheadings', '-o', 'vg_name', n.name], { ...quiet, readOnly: true });
      const vg = r.stdout.trim();
      if (vg) vgs.add(vg);
    }
    for (const vg of vgs) {
      await runner.run(['vgchange', '-an', vg], quiet);
      await runner.run(['vgremove', '-ff', '-y', vg], quiet);
    }
    const mds = nodes.filter((n) => n.type?.startsWith('raid')).map((n) => n.name);
    for (const md of [...new Set(mds)]) await runner.run(['mdadm', '--stop', md], quiet);
    if (!vgs.size && !mds.length) break;
  }
  // Zero superblocks so a later test's loop device does not auto-assemble our arrays.
  await runner.run(['wipefs', '--all', '--force', device], quiet);
  await runner.run(['losetup', '--detach', device], quiet);
}

export interface Leaks {
  loops: string[];
  vgs: string[];
  mds: string[];
}

/**
 * Loop devices backed by our files, and VGs/arrays whose members are loop devices.
 * Tests call this in afterAll and expect it empty.
 */
export async function findLeaks(runner: Runner = runnerDefault): Promise<Leaks> {
  const r = await runner.run(['losetup', '--list', '--json', '-O', 'NAME,BACK-FILE'], { readOnly: true });
  const list = r.stdout.trim()
    ? (JSON.parse(r.stdout) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices
    : [];
  const ours = list.filter((l) => (l['back-file'] ?? '').includes(LOOP_FILE_PREFIX)).map((l) => l.name);
  const pvs = await runner.run(['pvs', '--noheadings', '-o', 'pv_name,vg_name', '--separator', ' '], {
    readOnly: true,
    okExitCodes: [0, 5],
  });
  const vgs = new Set<string>();
  for (const line of pvs.stdout.split('\n')) {
    const [pv, vg] = line.trim().split(/\s+/);
    if (pv?.startsWith('/dev/loop') && vg && ours.some((o) => pv.startsWith(o))) vgs.add(vg);
  }
  const mdstat = await readMdstat();
  const mds = mdstat
    .filter((a) => a.members.some((m) => ours.some((o) => `/dev/${m}`.startsWith(o))))
    .map((a) => a.name);
  return { loops: ours, vgs: [...vgs], mds };
}

async function readMdstat(): Promise<{ name: string; members: string[] }[]> {
  let text = '';
  try {
    const fh = await open('/proc/mdstat', 'r');
    text = await fh.readFile('utf8');
    await fh.close();
  } catch {
    return [];
  }
  const arrays: { name: string; members: string[] }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(md\S+)\s*:\s*\S+\s+(.*)$/.exec(line);
    if (!m || !m[1] || m[2] === undefined) continue;
    const members = [...m[2].matchAll(/(\S+?)\[\d+\]/g)].map((x) => x[1] ?? '');
    arrays.push({ name: m[1], members });
  }
  return arrays;
}
