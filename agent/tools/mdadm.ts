// mdadm argv lives here only.
import type { Ctx } from '../core/context.js';

export interface MdCreate {
  device: string;
  name: string;
  level: string;
  metadata: string;
  members: readonly string[];
}

export function mdCreateArgv(md: MdCreate): string[] {
  // --run: never stop to ask "continue creating array?" (old signatures on members);
  // --force: a planned single-member array is legitimate.
  const argv = [
    'mdadm', '--create', md.device, '--run',
    `--level=${md.level}`,
    `--raid-devices=${md.members.length}`,
    `--metadata=${md.metadata}`,
    `--name=${md.name}`,
  ];
  if (md.members.length === 1) argv.push('--force');
  return [...argv, ...md.members];
}

export function mdStopArgv(device: string): string[] {
  return ['mdadm', '--stop', device];
}

export function mdZeroSuperblockArgv(device: string): string[] {
  return ['mdadm', '--zero-superblock', '--force', device];
}

export function mdAssembleArgv(device: string, members: readonly string[]): string[] {
  return ['mdadm', '--assemble', '--run', device, ...members];
}

export function mdDetailArgv(device: string): string[] {
  return ['mdadm', '--detail', '--export', device];
}

export interface MdDetail {
  level: string;
  metadata: string;
  name: string;
  members: string[];
  raidDevices: number;
}

/** Parses `mdadm --detail --export` (KEY=value lines). */
export function parseMdDetail(stdout: string): MdDetail {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const members = [...kv.entries()]
    .filter(([k]) => /^MD_DEVICE_.+_DEV$/.test(k))
    .map(([, v]) => v)
    .sort();
  const name = kv.get('MD_NAME') ?? '';
  return {
    level: kv.get('MD_LEVEL') ?? '',
    metadata: kv.get('MD_METADATA') ?? '',
    // MD_NAME is "homehost:name"; the plan knows only the name.
    name: name.includes(':') ? name.slice(name.indexOf(':') + 1) : name,
    members,
    raidDevices: Number(kv.get('MD_DEVICES') ?? NaN),
  };
}

export async function mdDetail(ctx: Ctx, device: string): Promise<MdDetail | null> {
  const r = await ctx.run(mdDetailArgv(device), {
    readOnly: true,
    okExitCodes: [0, 1, 2],
    timeoutMs: 30_000,
  });
  return r.exitCode === 0 ? parseMdDetail(r.stdout) : null;
}
