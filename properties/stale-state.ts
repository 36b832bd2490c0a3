// Leftovers a crash can leave on a node's disks, generated from the plan of the
// run that comes next: the same array names, VGs and devices that run will use,
// so its clean step meets them where it hurts most. They are made on the node
// from a finished layout by damaging it as a cut at the wrong moment would:
//   md-member-only  an array stopped with one member's superblock gone (half-created)
//   vg-missing-pv   a VG whose metadata names a PV that no longer carries its label
//   fs-wiped        a partition or LV without the filesystem it is about to get
//   half-image      the first MiB of an OS image over a planned filesystem
import fc from 'fast-check';
import type { Plan } from '../agent/plan/types.js';

export type Leftover =
  | { kind: 'md-member-only'; md: string; zeroed: string }
  | { kind: 'vg-missing-pv'; vg: string; pv: string }
  | { kind: 'fs-wiped'; device: string }
  | { kind: 'half-image'; device: string; mib: number };

export const describeLeftover = (l: Leftover): string => {
  switch (l.kind) {
    case 'md-member-only':
      return `${l.md} stopped, ${l.zeroed} without superblock`;
    case 'vg-missing-pv':
      return `VG ${l.vg} missing PV ${l.pv}`;
    case 'fs-wiped':
      return `${l.device} without filesystem`;
    case 'half-image':
      return `${l.mib} MiB of the image on ${l.device}`;
  }
};

const md = (p: Plan): string[] => p.mds.map((m) => m.device);
/** A PV that is a partition (a PV on an array is gone once the arrays are stopped). */
const plainPvs = (p: Plan, vg: string): string[] => p.vgs.find((v) => v.name === vg)?.pvs.filter((d) => !md(p).includes(d)) ?? [];

/** Every leftover this plan has a place for, each as an arbitrary. */
function candidates(p: Plan): fc.Arbitrary<Leftover>[] {
  const out: fc.Arbitrary<Leftover>[] = [];
  for (const m of p.mds.filter((x) => x.members.length >= 2)) {
    out.push(fc.constantFrom(...m.members).map((zeroed): Leftover => ({ kind: 'md-member-only', md: m.device, zeroed })));
  }
  for (const vg of p.vgs.filter((v) => v.pvs.length >= 2 && plainPvs(p, v.name).length)) {
    out.push(fc.constantFrom(...plainPvs(p, vg.name)).map((pv): Leftover => ({ kind: 'vg-missing-pv', vg: vg.name, pv })));
  }
  const fss = p.fss.filter((f) => f.type !== 'swap').map((f) => f.device);
  if (fss.length) {
    out.push(fc.constantFrom(...fss).map((device): Leftover => ({ kind: 'fs-wiped', device })));
    out.push(fc.record({ device: fc.constantFrom(...fss), mib: fc.integer({ min: 1, max: 4 }) }).map((r): Leftover => ({ kind: 'half-image', ...r })));
  }
  return out;
}

/** One to all of the leftovers the plan has room for, no device damaged twice. */
export function leftoversArb(p: Plan): fc.Arbitrary<Leftover[]> {
  const c = candidates(p);
  if (!c.length) return fc.constant([]);
  return fc
    .subarray(c, { minLength: 1 })
    .chain((picked) => fc.tuple(...picked))
    .map((ls) => ls.filter((l, i) => ls.findIndex((o) => leftoverTarget(o) === leftoverTarget(l)) === i));
}

/** The device a leftover damages. */
export const leftoverTarget = (l: Leftover): string => (l.kind === 'md-member-only' ? l.zeroed : l.kind === 'vg-missing-pv' ? l.pv : l.device);

/**
 * The node's commands that make the leftovers on a finished layout, in an order
 * that works: writes into active devices first, then every VG deactivated, PV
 * labels wiped, every array stopped, member superblocks zeroed. `halfImage` is
 * the path on the node of a file holding the image's first MiBs.
 */
export function leftoverArgv(ls: readonly Leftover[], halfImage: string): string[][] {
  const argv: string[][] = [];
  for (const l of ls) {
    if (l.kind === 'fs-wiped') argv.push(['wipefs', '--all', '--force', l.device]);
    if (l.kind === 'half-image') argv.push(['dd', `if=${halfImage}`, `of=${l.device}`, 'bs=1M', `count=${l.mib}`, 'conv=fsync', 'status=none']);
  }
  argv.push(['vgchange', '--activate', 'n']);
  for (const l of ls) if (l.kind === 'vg-missing-pv') argv.push(['wipefs', '--all', '--force', l.pv]);
  if (ls.some((l) => l.kind === 'md-member-only')) argv.push(['mdadm', '--stop', '--scan']);
  for (const l of ls) if (l.kind === 'md-member-only') argv.push(['mdadm', '--zero-superblock', l.zeroed]);
  argv.push(['sync']);
  return argv;
}

/**
 * The same leftovers on the node's own device names. They are generated from the
 * plan the host makes for the VM's disks, but SATA and NVMe kernel names follow
 * probe order, which changes between boots; the node's plan of the same data has
 * the same shape, so each planned device maps to the node's by position.
 */
export function onNodeDevices(ls: readonly Leftover[], host: Plan, node: Plan): Leftover[] {
  const map = new Map<string, string>();
  host.parteds.forEach((d, i) => {
    const n = node.parteds[i];
    if (!n) return;
    map.set(d.device, n.device);
    d.partitions.forEach((p, j) => {
      const q = n.partitions[j];
      if (q) map.set(p.device, q.device);
    });
  });
  const dev = (d: string): string => map.get(d) ?? d;
  return ls.map((l): Leftover => {
    switch (l.kind) {
      case 'md-member-only':
        return { ...l, zeroed: dev(l.zeroed) };
      case 'vg-missing-pv':
        return { ...l, pv: dev(l.pv) };
      default:
        return { ...l, device: dev(l.device) };
    }
  });
}
