// Hand-built plans for the partition/verify tests: GPT layouts on given devices,
// laid out the way the planner does (1 MiB aligned, first partition at 1 MiB).
import { ExecaRunner } from '../core/runner.js';
import { findLeaks, LOOP_FILE_PREFIX, type Leaks } from '../testing/loop-disks.js';
import { PLAN_VERSION, type FsType, type PartitionFlag, type Plan, type PlannedDisk } from '../plan/types.js';

export interface TestPart {
  size: number;
  flags?: PartitionFlag[];
  guid?: string;
  name?: string;
  keep?: boolean;
  fs?: { type: FsType; label?: string; mount?: string; fromImage?: boolean };
  /** Leave a hole of this many MiB before the partition. */
  gapBefore?: number;
}

export interface TestDisk {
  device: string;
  sizeMiB: number;
  sectorSize: number;
  parts: TestPart[];
}

export function partDevice(disk: string, num: number): string {
  return /\d$/.test(disk) ? `${disk}p${num}` : `${disk}${num}`;
}

export function testPlan(disks: readonly TestDisk[], extra: Partial<Plan> = {}): Plan {
  const parteds: PlannedDisk[] = [];
  const fss: Plan['fss'] = [];
  disks.forEach((d, i) => {
    let at = 1;
    const partitions = d.parts.map((p, j) => {
      at += p.gapBefore ?? 0;
      const begin = at;
      at += p.size;
      const num = j + 1;
      const device = partDevice(d.device, num);
      if (p.fs) {
        fss.push({
          device,
          mount: p.fs.mount ?? (p.fs.type === 'swap' ? 'swap' : `/mnt/p${i}-${num}`),
          type: p.fs.type,
          ...(p.fs.label ? { label: p.fs.label } : {}),
          mkfsOptions: [],
          mountOptions: 'defaults',
          fromImage: p.fs.fromImage ?? false,
          keepData: p.keep ?? false,
        });
      }
      return {
        num,
        device,
        begin,
        end: at,
        size: p.size,
        flags: p.flags ?? [],
        ...(p.guid ? { guid: p.guid } : {}),
        name: p.name ?? `part${num}`,
        role: p.fs?.mount ?? p.fs?.type ?? 'none',
        keepData: p.keep ?? false,
      };
    });
    parteds.push({
      id: `disk${i}`,
      name: d.device.replace('/dev/', ''),
      device: d.device,
      matchedBy: 'name',
      matchedOn: d.device.replace('/dev/', ''),
      size: d.sizeMiB,
      logicalSectorSize: d.sectorSize,
      physicalSectorSize: d.sectorSize,
      label: 'gpt',
      partitions,
      keepData: partitions.some((p) => p.keepData),
      boot: partitions.some((p) => p.flags.includes('bios_grub') || p.flags.includes('esp')),
    });
  });
  return {
    version: PLAN_VERSION,
    parteds,
    mds: [],
    pvs: [],
    vgs: [],
    lvs: [],
    fss,
    images: [],
    bootloader: { disks: parteds.filter((d) => d.boot).map((d) => d.device), bootDevice: '', rootDevice: '', kernelParams: '' },
    ...extra,
  };
}

/**
 * findLeaks() limited to loop devices whose backing file carries one of `tags`
 * (and VGs on them): other suites on a shared machine may hold loop devices of
 * their own while ours run. On CI (one file at a time) this equals findLeaks().
 */
export async function ownLeaks(tags: readonly string[]): Promise<Leaks> {
  const all = await findLeaks();
  const r = await new ExecaRunner().run(['losetup', '--list', '--json', '-O', 'NAME,BACK-FILE'], { readOnly: true });
  const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { loopdevices: { name: string; 'back-file': string | null }[] }).loopdevices : [];
  const ours = new Set(
    list.filter((l) => tags.some((t) => (l['back-file'] ?? '').includes(`${LOOP_FILE_PREFIX}${t}-`))).map((l) => l.name),
  );
  return { loops: all.loops.filter((l) => ours.has(l)), vgs: all.vgs.filter((v) => v.startsWith('ff3')), mds: all.mds };
}
