// lsblk argv and output parsing live here only. Whole devices only (--nodeps),
// sizes in bytes, JSON; older util-linux prints booleans and numbers as strings.
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { parseJsonAs } from '../core/parse-json.js';

export const LSBLK_COLUMNS = ['NAME', 'PATH', 'SIZE', 'LOG-SEC', 'PHY-SEC', 'ROTA', 'RM', 'RO', 'TYPE', 'SERIAL', 'WWN', 'MODEL', 'VENDOR', 'TRAN'] as const;

export function lsblkDisksArgv(): string[] {
  return ['lsblk', '--json', '--bytes', '--nodeps', '-o', LSBLK_COLUMNS.join(',')];
}

export interface LsblkDevice {
  name: string;
  path: string;
  size: number;
  logSec: number;
  phySec: number;
  rota: boolean;
  rm: boolean;
  ro: boolean;
  type: string;
  serial?: string;
  wwn?: string;
  model?: string;
  vendor?: string;
  tran?: string;
}

const bool = (v: unknown) => v === true || v === '1' || v === 1;
const num = (v: unknown, dflt: number) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : dflt;
};
const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Columns are read leniently below (older util-linux prints numbers and booleans as strings). */
const lsblkOutput = z.object({ blockdevices: z.array(z.record(z.string(), z.unknown())) });

export function parseLsblkDisks(stdout: string): LsblkDevice[] {
  const list = parseJsonAs(lsblkOutput, stdout, { command: lsblkDisksArgv() }).blockdevices;
  return list.map((raw) => {
    const name = text(raw.name) ?? '';
    const d: LsblkDevice = {
      name,
      path: text(raw.path) ?? `/dev/${name}`,
      size: num(raw.size, 0),
      logSec: num(raw['log-sec'], 512),
      phySec: num(raw['phy-sec'], 512),
      rota: bool(raw.rota),
      rm: bool(raw.rm),
      ro: bool(raw.ro),
      type: text(raw.type) ?? 'disk',
    };
    const opt = { serial: text(raw.serial), wwn: text(raw.wwn), model: text(raw.model), vendor: text(raw.vendor), tran: text(raw.tran) };
    for (const [k, v] of Object.entries(opt)) if (v !== undefined) d[k as 'serial'] = v;
    return d;
  });
}

export async function listDisks(ctx: Ctx): Promise<LsblkDevice[]> {
  const r = await ctx.run(lsblkDisksArgv(), { readOnly: true, timeoutMs: 60_000 });
  return parseLsblkDisks(r.stdout);
}
