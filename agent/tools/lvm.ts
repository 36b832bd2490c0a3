// LVM argv lives here only (pvcreate/vgcreate/lvcreate/…, and the JSON reports).
// Sizes are passed and read in MiB so the plan's numbers go through unchanged.
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { parseJsonAs } from '../core/parse-json.js';
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

// LVM's JSON report prints every field as a string (sizes too, with --nosuffix).
const pvRow = z.looseObject({ pv_name: z.string(), vg_name: z.string(), pv_size: z.string(), pv_mda_size: z.string() });
const vgRow = z.looseObject({ vg_name: z.string(), vg_size: z.string(), vg_extent_size: z.string(), pv_count: z.string(), lv_count: z.string() });
const lvRow = z.looseObject({ lv_name: z.string(), vg_name: z.string(), lv_size: z.string(), lv_path: z.string() });
const ROWS = { pv: pvRow, vg: vgRow, lv: lvRow } as const;

export type PvRow = z.output<typeof pvRow>;
export type VgRow = z.output<typeof vgRow>;
export type LvRow = z.output<typeof lvRow>;
type RowOf = { pv: PvRow; vg: VgRow; lv: LvRow };

export function parseReport<K extends keyof RowOf>(stdout: string, key: K, command: readonly string[] = []): RowOf[K][] {
  if (!stdout.trim()) return [];
  const row = ROWS[key] as unknown as z.ZodType<RowOf[K]>;
  const doc = parseJsonAs(z.object({ report: z.array(z.looseObject({ [key]: z.array(row).optional() })).optional() }), stdout, { command });
  return (doc.report ?? []).flatMap((r) => (r[key] as RowOf[K][] | undefined) ?? []);
}

async function report<K extends keyof RowOf>(ctx: Ctx, kind: ReportKind, key: K): Promise<RowOf[K][]> {
  // Exit 5 with no PVs at all, or where device-mapper is missing: still an answer.
  const r = await ctx.run(reportArgv(kind), {
    readOnly: true,
    okExitCodes: [0, 5],
    env: ENV,
    timeoutMs: 60_000,
  });
  return parseReport(r.stdout, key, r.argv);
}

export const listPvs = (ctx: Ctx): Promise<PvRow[]> => report(ctx, 'pvs', 'pv');
export const listVgs = (ctx: Ctx): Promise<VgRow[]> => report(ctx, 'vgs', 'vg');
export const listLvs = (ctx: Ctx): Promise<LvRow[]> => report(ctx, 'lvs', 'lv');

/** Runs an LVM command with the fd-warning suppression and a generous timeout. */
export async function runLvm(ctx: Ctx, argv: readonly string[], opts: Omit<RunOptions, 'signal'> = {}): Promise<void> {
  await ctx.run(argv, { timeoutMs: 300_000, ...opts, env: { ...ENV, ...opts.env } });
}
