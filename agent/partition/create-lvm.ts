// Steps 7–9: PVs with the planned metadata size, VGs, LVs. Kept VGs are only
// activated, never re-created. Leaves: every planned LV active, its node present.
import type { Ctx } from '../core/context.js';
import type { Plan } from '../plan/types.js';
import { lvcreateArgv, pvcreateArgv, runLvm, vgActivateArgv, vgcreateArgv } from '../tools/lvm.js';
import { waitForNode } from './wait-node.js';

export async function createPvs(ctx: Ctx, plan: Plan): Promise<void> {
  for (const pv of plan.pvs) {
    if (pv.keepData) continue;
    await runLvm(ctx, pvcreateArgv(pv.device, pv.metadataSize, pv.metadataCopies));
  }
}

export async function createVgs(ctx: Ctx, plan: Plan): Promise<void> {
  for (const vg of plan.vgs) {
    if (vg.keepData) await runLvm(ctx, vgActivateArgv(vg.name, true));
    else await runLvm(ctx, vgcreateArgv(vg.name, vg.pvs));
  }
}

export async function createLvs(ctx: Ctx, plan: Plan, timeoutMs = 60_000): Promise<void> {
  for (const lv of plan.lvs) {
    if (!lv.keepData) await runLvm(ctx, lvcreateArgv(lv.vg, lv.name, lv.size));
    // LVM rounds up to whole extents, so only existence is waited for here.
    await waitForNode(ctx, lv.device, { timeoutMs });
  }
}
