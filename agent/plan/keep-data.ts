// keep_data spreads through everything that shares storage with the kept thing:
// a kept LV keeps its VG, every PV of that VG and their partitions (and so the
// other LVs on them); a kept md keeps its members; a kept device keeps its fs.
// Anything less would let a run re-create a layer under data that must survive.
import type { Plan } from './types.js';

export function propagateKeepData(plan: Plan, seeds: ReadonlySet<string>): void {
  // Nodes are names: devices, `vg:<name>`. Edges join what must be kept together.
  const edges = new Map<string, Set<string>>();
  const link = (a: string, b: string) => {
    if (!edges.has(a)) edges.set(a, new Set());
    if (!edges.has(b)) edges.set(b, new Set());
    edges.get(a)!.add(b);
    edges.get(b)!.add(a);
  };
  for (const md of plan.mds) for (const m of md.members) link(md.device, m);
  for (const pv of plan.pvs) link(pv.device, `vg:${pv.vg}`);
  for (const lv of plan.lvs) link(lv.device, `vg:${lv.vg}`);

  const kept = new Set<string>();
  const queue = [...seeds];
  while (queue.length) {
    const n = queue.pop()!;
    if (kept.has(n)) continue;
    kept.add(n);
    for (const m of edges.get(n) ?? []) if (!kept.has(m)) queue.push(m);
  }

  for (const d of plan.parteds) {
    for (const p of d.partitions) p.keepData = kept.has(p.device);
    d.keepData = d.partitions.some((p) => p.keepData);
  }
  for (const md of plan.mds) md.keepData = kept.has(md.device);
  for (const pv of plan.pvs) pv.keepData = kept.has(pv.device);
  for (const vg of plan.vgs) vg.keepData = kept.has(`vg:${vg.name}`);
  for (const lv of plan.lvs) lv.keepData = kept.has(lv.device);
  for (const fs of plan.fss) fs.keepData = kept.has(fs.device);
}
