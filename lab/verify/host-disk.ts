// Independent host-side check of a node's disk after shutdown: convert the qcow2
// to raw, read the partition table with sfdisk --json, and compare it with what
// the node's own verify saw; plain ext filesystems are inspected with debugfs
// through a read-only loop device at the partition's offset (no dm/md needed).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runner } from '../../agent/core/runner.js';
import { qcow2ToRaw } from '../vm/qemu-img.js';
import type { Check } from './first-boot.js';

export interface HostPartition {
  node: string;
  start: number;
  size: number;
  type: string;
  name?: string;
}

export interface HostDiskView {
  label: string | undefined;
  sectorSize: number;
  partitions: HostPartition[];
}

export async function readPartitionTable(runner: Runner, raw: string): Promise<HostDiskView> {
  const r = await runner.run(['sfdisk', '--json', raw], { readOnly: true, timeoutMs: 30_000, okExitCodes: [0, 1] });
  if (!r.stdout.trim()) return { label: undefined, sectorSize: 512, partitions: [] };
  const pt = (JSON.parse(r.stdout) as { partitiontable: { label?: string; sectorsize?: number; partitions?: HostPartition[] } }).partitiontable;
  return { label: pt.label, sectorSize: pt.sectorsize ?? 512, partitions: pt.partitions ?? [] };
}

/** Lists a directory of an ext filesystem inside a raw disk file at a partition's offset. */
export async function listExtDir(runner: Runner, raw: string, p: HostPartition, sectorSize: number, dir: string): Promise<string[]> {
  const loop = (await runner.run(['losetup', '--find', '--show', '--read-only', '--offset', String(p.start * sectorSize), '--sizelimit', String(p.size * sectorSize), raw])).stdout.trim();
  try {
    const r = await runner.run(['debugfs', '-R', `ls -p ${dir}`, loop], { readOnly: true, timeoutMs: 30_000 });
    return r.stdout.split('\n').map((l) => l.split('/')[5] ?? '').filter((n) => n && n !== '.' && n !== '..');
  } finally {
    await runner.run(['losetup', '-d', loop]).catch(() => undefined);
  }
}

export const GUID_BIOS_GRUB = '21686148-6449-6E6F-744E-656564454649';

export async function hostDiskChecks(runner: Runner, qcow2: string, workDir: string): Promise<{ checks: Check[]; view: HostDiskView }> {
  const raw = join(workDir, 'disk0.raw');
  await qcow2ToRaw(runner, qcow2, raw);
  try {
    const view = await readPartitionTable(runner, raw);
    const checks: Check[] = [
      { name: 'host: GPT label', ok: view.label === 'gpt', detail: `label=${String(view.label)}` },
      { name: 'host: bios_grub partition', ok: view.partitions.some((p) => p.type.toUpperCase() === GUID_BIOS_GRUB), detail: view.partitions.map((p) => p.type).join(',') },
    ];
    // /boot: the first partition holding a kernel is the boot filesystem.
    let kernelFound = '';
    for (const p of view.partitions) {
      const names = await listExtDir(runner, raw, p, view.sectorSize, '/').catch(() => [] as string[]);
      const k = names.find((n) => n.startsWith('vmlinuz-'));
      if (k) {
        kernelFound = `${p.node}: ${k}${names.includes('grub') ? ' + grub/' : ''}`;
        break;
      }
    }
    checks.push({ name: 'host: /boot holds kernel and grub', ok: /vmlinuz-.*grub/.test(kernelFound), detail: kernelFound || 'no ext partition with vmlinuz-*' });
    return { checks, view };
  } finally {
    rmSync(raw, { force: true });
  }
}
