// LVM argv lives here only (pvcreate/vgcreate/lvcreate/…, and the JSON reports).
// Sizes are passed and read in MiB so the plan's numbers go through unchanged.
import type { Ctx } from '../core/context.js';
import type { RunOptions } from '../core/runner.js';

/** LVM warns on every inherited fd, which drowns real stderr in the error tail. */
const ENV = { LVM_SUPPRESS_FD_WARNINGS: '1' };

/** `metadataCopies` 2 (Fuel's): a second metadata area at the PV's end survives a clobbered start. */
export function pvcreateArgv(device: string, metadataSizeMiB: number, metadataCopies?: number): string[] {
  const copies = metadataCopies === undefined ? [] : ['--metadatacopies', String(metadataCopies)];
  return ['pvcreate', '-ff', '-y', '--metadatasize', `${metadataSizeMiB}m`, ...copies, device];
}

export function vgcreateArgv(name: string, pvs: readonly string[]): string[] {
  return ['vgcreate', '-y', name, ...pvs];
}

export function lvcreateArgv(vg: string, name: string, sizeMiB: number): string[] {
  // -W/-Z: wipe signatures and zero the start so an old filesystem at the same
  // extents cannot reappear.
  return ['lvcreate', '-y', '-Wy', '-Zy', '-L', `${sizeMiB}m`, '-n', name, vg];
}

export function vgActivateArgv(vg: string, active: boolean): string[] {
  return ['vgchange', active ? '-ay' : '-an', vg];
}

export function vgremoveArgv(vg: string): string[] {
  return ['vgremove', '-ff', '-y', vg];
}

export function pvremoveArgv(device: string): string[] {
  return ['pvremove', '-ff', '-y', device];
}

export type ReportKind = 'pvs' | 'vgs' | 'lvs';

const FIELDS: Record<ReportKind, string> = {
  pvs: 'pv_name,vg_name,pv_size,pv_mda_size',
  vgs: 'vg_name,vg_size,vg_extent_size,pv_count,lv_count',
  lvs: 'lv_name,vg_name,lv_size,lv_path',
};

export function reportArgv(kind: ReportKind): string[] {
  return [kind, '--reportformat', 'json', '--units', 'm', '--nosuffix', '-o', FIELDS[kind]];
}

export interface PvRow { pv_name: string; vg_name: string; pv_size: string; pv_mda_size: string }
export interface VgRow { vg_name: string; vg_size: string; vg_extent_size: string; pv_count: string; lv_count: string }
export interface LvRow { lv_name: string; vg_name: string; lv_size: string; lv_path: string }

export function parseReport<T>(stdout: string, key: 'pv' | 'vg' | 'lv'): T[] {
  if (!stdout.trim()) return [];
  const doc = JSON.parse(stdout) as { report?: Record<string, T[] | undefined>[] };
  return (doc.report ?? []).flatMap((r) => r[key] ?? []);
}

async function report<T>(ctx: Ctx, kind: ReportKind, key: 'pv' | 'vg' | 'lv'): Promise<T[]> {
  // Exit 5 with no PVs at all, or where device-mapper is missing: still an answer.
  const r = await ctx.runner.run(reportArgv(kind), {
    readOnly: true,
    okExitCodes: [0, 5],
    env: ENV,
    timeoutMs: 60_000,
    signal: ctx.signal,
  });
  return parseReport<T>(r.stdout, key);
}

export const listPvs = (ctx: Ctx): Promise<PvRow[]> => report<PvRow>(ctx, 'pvs', 'pv');
export const listVgs = (ctx: Ctx): Promise<VgRow[]> => report<VgRow>(ctx, 'vgs', 'vg');
export const listLvs = (ctx: Ctx): Promise<LvRow[]> => report<LvRow>(ctx, 'lvs', 'lv');

/** Runs an LVM command with the fd-warning suppression and a generous timeout. */
export async function runLvm(ctx: Ctx, argv: readonly string[], opts: RunOptions = {}): Promise<void> {
  await ctx.runner.run(argv, { timeoutMs: 300_000, signal: ctx.signal, ...opts, env: { ...ENV, ...opts.env } });
}
