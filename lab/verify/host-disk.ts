// Independent host-side check of a node's disk after shutdown: convert the qcow2
// to raw, read the partition table with sfdisk --json, and compare it with what
// the node's own verify saw; plain ext filesystems are inspected with debugfs
// through a read-only loop device at the partition's offset (no dm/md needed).
import { closeSync, openSync, readSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Plan, PlannedDisk } from '../../agent/plan/types.js';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import type { Runner } from '../../agent/core/runner.js';
import { mdirArgv } from '../../agent/tools/mtools.js';
import { partitionNumber, sfdiskOutput } from '../../agent/tools/sfdisk.js';
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

/**
 * The GPT of a raw disk image, read with the disk's logical sector size: sfdisk
 * assumes 512 bytes for a plain file, so a 4K-sector disk is read through a
 * read-only loop device that has the right sector size.
 */
export async function readPartitionTable(runner: Runner, raw: string, sectorSize = 512): Promise<HostDiskView> {
  if (sectorSize !== 512) {
    const loop = (await runner.run(['losetup', '--find', '--show', '--read-only', '--sector-size', String(sectorSize), raw])).stdout.trim();
    try {
      return await sfdiskView(runner, loop);
    } finally {
      await runner.run(['losetup', '-d', loop]).catch(() => undefined);
    }
  }
  return sfdiskView(runner, raw);
}

async function sfdiskView(runner: Runner, device: string): Promise<HostDiskView> {
  const r = await runner.run(['sfdisk', '--json', device], { readOnly: true, timeoutMs: 30_000, okExitCodes: [0, 1] });
  if (!r.stdout.trim()) return { label: undefined, sectorSize: 512, partitions: [] };
  const pt = parseJsonAs(sfdiskOutput, r.stdout, { command: r.argv }).partitiontable;
  return { label: pt.label, sectorSize: pt.sectorsize ?? 512, partitions: pt.partitions };
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

/** GRUB's boot.img in the protective MBR: its "GRUB " signature string sits in the first sector. */
function grubBootCode(raw: string): Check {
  const sector = Buffer.alloc(512);
  const fd = openSync(raw, 'r');
  try {
    readSync(fd, sector, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const ok = sector.includes('GRUB ');
  return { name: 'host: GRUB boot code in sector 0', ok, detail: ok ? 'GRUB signature found' : 'no GRUB signature in the MBR' };
}

/**
 * The partition table read from the disk against the plan's, exactly: number,
 * start and size in sectors, type GUID. One check per planned partition plus
 * one for partitions nobody planned.
 */
export function comparePartitions(view: HostDiskView, planned: PlannedDisk): Check[] {
  const perMiB = 2 ** 20 / view.sectorSize;
  const checks = planned.partitions.map((p): Check => {
    const got = view.partitions.find((h) => partitionNumber(h.node) === p.num);
    const want = `#${p.num} start ${p.begin * perMiB} size ${p.size * perMiB}${p.guid ? ` type ${p.guid}` : ''}`;
    const ok = got !== undefined && got.start === p.begin * perMiB && got.size === p.size * perMiB && (!p.guid || got.type.toUpperCase() === p.guid.toUpperCase());
    return { name: `host: partition ${p.num} (${p.role}) as planned`, ok, detail: got ? `got start ${got.start} size ${got.size} type ${got.type}; want ${want}` : `missing; want ${want}` };
  });
  const extra = view.partitions.filter((h) => !planned.partitions.some((p) => p.num === partitionNumber(h.node)));
  checks.push({ name: 'host: no unplanned partitions', ok: extra.length === 0, detail: extra.map((h) => h.node).join(', ') || 'none' });
  return checks;
}

/** Partitions holding /boot: its filesystem's partition, or the members of its array. */
export function bootPartitions(plan: Plan): Set<string> {
  const boot = plan.fss.find((f) => f.mount === '/boot') ?? plan.fss.find((f) => f.mount === '/');
  const md = plan.mds.find((m) => m.device === boot?.device);
  return new Set(md ? md.members : boot ? [boot.device] : []);
}

/**
 * The ESP's removable boot path (EFI/BOOT/BOOTX64.EFI, what firmware boots with an
 * empty NVRAM), read with mtools straight from the raw disk at the partition's
 * offset: the host needs no vfat driver. With shim (Secure Boot) GRUB sits beside it.
 */
export async function espBootFiles(runner: Runner, raw: string, p: HostPartition, sectorSize: number): Promise<string[]> {
  const r = await runner.run(mdirArgv(`${raw}@@${p.start * sectorSize}`, 'EFI'), { readOnly: true, timeoutMs: 30_000, okExitCodes: [0, 1] });
  return r.stdout.split('\n').map((l) => l.trim().replace(/^::/, '')).filter((l) => l.startsWith('/EFI/'));
}

/** The ESP on this disk, the mounted one or another boot disk's mirror of it. */
async function espCheck(runner: Runner, raw: string, view: HostDiskView, planned: PlannedDisk): Promise<Check | undefined> {
  const part = planned.partitions.find((p) => p.flags.includes('esp'));
  if (!part) return undefined;
  const onDisk = view.partitions.find((h) => partitionNumber(h.node) === part.num);
  const files = onDisk ? await espBootFiles(runner, raw, onDisk, view.sectorSize) : [];
  const ok = files.some((f) => f.toUpperCase() === '/EFI/BOOT/BOOTX64.EFI');
  return { name: 'host: ESP holds EFI/BOOT/BOOTX64.EFI', ok, detail: files.join(', ') || 'nothing under /EFI' };
}

/** Host-side checks of one node disk (qcow2) against the plan's `index`-th disk. */
export async function hostDiskChecks(runner: Runner, qcow2: string, workDir: string, plan?: Plan, index = 0): Promise<{ checks: Check[]; view: HostDiskView }> {
  const planned: PlannedDisk | undefined = plan?.parteds[index];
  const raw = join(workDir, `${basename(qcow2)}.raw`);
  await qcow2ToRaw(runner, qcow2, raw);
  try {
    const view = await readPartitionTable(runner, raw, planned?.logicalSectorSize ?? 512);
    const checks: Check[] = [
      { name: 'host: GPT label', ok: view.label === 'gpt', detail: `label=${String(view.label)}` },
      ...(planned ? comparePartitions(view, planned) : []),
    ];
    // Disks the plan does not boot from carry no bootloader.
    if (planned && !planned.boot) return { checks, view };
    const esp = planned ? await espCheck(runner, raw, view, planned) : undefined;
    if (esp) checks.push(esp);
    checks.push(
      { name: 'host: bios_grub partition', ok: view.partitions.some((p) => p.type.toUpperCase() === GUID_BIOS_GRUB), detail: view.partitions.map((p) => p.type).join(',') },
      grubBootCode(raw),
    );
    // Only the disk holding /boot (or a RAID1 /boot member: metadata 1.0 = a plain fs
    // at offset 0) carries the kernel and grub/; other boot disks only GRUB's code.
    if (plan && planned && !planned.partitions.some((p) => bootPartitions(plan).has(p.device))) return { checks, view };
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
