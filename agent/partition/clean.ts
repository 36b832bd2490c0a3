// Step 2: remove stale state from everything the plan re-creates, top of the stack
// first: deactivate and remove old VGs/PVs, stop old MD arrays and zero their
// superblocks, wipe every signature, zap both GPT headers. keep_data disks keep
// their table and their kept partitions (and whatever is stacked on those);
// only their other partitions are wiped. Leaves: blank disks / blank old partitions.
import type { Ctx } from '../core/context.js';
import type { Plan, PlannedDisk } from '../plan/types.js';
import { listPvs, pvremoveArgv, runLvm, vgActivateArgv, vgremoveArgv } from '../tools/lvm.js';
import { mdStopArgv, mdZeroSuperblockArgv } from '../tools/mdadm.js';
import { zapArgv } from '../tools/sgdisk.js';
import { partitionNumber } from '../tools/sfdisk.js';
import { wipefsArgv } from '../tools/wipefs.js';
import { sysfsGraph, type BlockGraph } from '../tools/sysfs.js';

export interface StaleState {
  /** Kernel names of whole disks that will be relabelled. */
  disks: string[];
  /** Kernel names of existing partitions that will be wiped and removed. */
  partitions: string[];
  /** MD arrays and dm devices stacked on those, deepest last. */
  holders: string[];
  /** VGs with a PV on any of the above (kept VGs excluded). */
  vgs: string[];
  /** PV device paths on any of the above. */
  pvs: string[];
}

async function doomedOf(g: BlockGraph, disk: PlannedDisk): Promise<{ disk: string | null; parts: string[] }> {
  const name = await g.kernelName(disk.device);
  if (!name) return { disk: null, parts: [] };
  const keptNums = new Set(disk.partitions.filter((p) => p.keepData).map((p) => p.num));
  const parts = (await g.partitionsOf(name)).filter((n) => !keptNums.has(partitionNumber(n)));
  return { disk: disk.keepData ? null : name, parts };
}

/** Reads (never changes) what stale state sits on the plan's disks. */
export async function findStaleState(ctx: Ctx, plan: Plan, g: BlockGraph = sysfsGraph): Promise<StaleState> {
  const disks: string[] = [];
  const partitions: string[] = [];
  for (const d of plan.parteds) {
    const doomed = await doomedOf(g, d);
    if (doomed.disk) disks.push(doomed.disk);
    partitions.push(...doomed.parts);
  }
  const holders = await g.holdersClosure([...disks, ...partitions]);
  const names = new Set([...disks, ...partitions, ...holders]);
  const keptVgs = new Set(plan.vgs.filter((v) => v.keepData).map((v) => v.name));
  const vgs = new Set<string>();
  const pvs: string[] = [];
  for (const pv of await listPvs(ctx)) {
    const n = await g.kernelName(pv.pv_name);
    if (!n || !names.has(n)) continue;
    if (pv.vg_name && keptVgs.has(pv.vg_name)) continue;
    pvs.push(pv.pv_name);
    if (pv.vg_name) vgs.add(pv.vg_name);
  }
  return { disks, partitions, holders, vgs: [...vgs].sort(), pvs };
}

export async function cleanStaleState(ctx: Ctx, plan: Plan, g: BlockGraph = sysfsGraph): Promise<StaleState> {
  const stale = await findStaleState(ctx, plan, g);
  ctx.log.info('partition.clean', { ...stale });
  const run = (argv: readonly string[], okExitCodes: readonly number[] = [0]): Promise<unknown> =>
    ctx.run(argv, { okExitCodes, timeoutMs: 120_000 });

  // LVM first: LVs sit on top of everything else.
  for (const vg of stale.vgs) {
    // Deactivation fails where device-mapper is absent; vgremove -ff still drops the metadata.
    await runLvm(ctx, vgActivateArgv(vg, false), { okExitCodes: [0, 5] });
    await runLvm(ctx, vgremoveArgv(vg));
  }
  for (const pv of stale.pvs) await runLvm(ctx, pvremoveArgv(pv), { okExitCodes: [0, 5] });

  // Then arrays, deepest first; a dm device left over here is not ours to guess about.
  for (const h of [...new Set(stale.holders)].reverse()) {
    if (h.startsWith('md')) await run(mdStopArgv(`/dev/${h}`));
    else if (h.startsWith('dm-')) ctx.log.warn('partition.clean.dm-left', { device: h, name: await g.dmName(h) });
  }
  // MD superblocks, then every other signature, old partitions before their disk.
  for (const p of stale.partitions) {
    await run(mdZeroSuperblockArgv(`/dev/${p}`), [0, 1, 2]);
    await run(wipefsArgv(`/dev/${p}`));
  }
  for (const d of stale.disks) {
    await run(mdZeroSuperblockArgv(`/dev/${d}`), [0, 1, 2]);
    await run(wipefsArgv(`/dev/${d}`));
    await run(zapArgv(`/dev/${d}`));
  }
  return stale;
}
