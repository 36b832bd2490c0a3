// The provisioning benchmark's table (pure): one node's stage records folded into
// the phases both methods share — PXE (to the bootstrap), install/provision,
// reboot, first boot, deployment start — and the ratio of the totals to a node
// ready for deployment. Stage names are the orchestrator's (`<node>: <stage>`).
import type { StageRecord } from '../stages.js';

export const PHASES = ['pxe', 'install', 'reboot', 'firstBoot', 'deploy'] as const;
export type Phase = (typeof PHASES)[number];

const PHASE_OF: [RegExp, Phase][] = [
  [/^(cobbler register\+sync|power on|PXE boot \+ discovery)$/, 'pxe'],
  [/^(upload provision\.json|provision.*|pre_provision.*|cobbler system → .*|install \(debian-installer\)|write into .*|read kept .*)$/, 'install'],
  [/^(disable netboot \+ sync|reboot|reboot into the installer)$/, 'reboot'],
  [/^first boot \(cloud-init\)$/, 'firstBoot'],
  [/^(ssh .*|mco .*|deployment.*)$/, 'deploy'],
];

export interface MethodTimes {
  method: string;
  ok: boolean;
  /** Seconds per phase. */
  phases: Record<Phase, number>;
  /** Seconds from the first stage to a node ready for deployment (sum of the phases). */
  total: number;
  /** Stages of this node no phase claimed (power off, host checks: after "ready"). */
  other: string[];
}

export function methodTimes(method: string, node: string, records: readonly StageRecord[]): MethodTimes {
  const phases = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>;
  const other: string[] = [];
  let ok = true;
  for (const r of records) {
    if (!r.stage.startsWith(`${node}: `)) continue;
    const stage = r.stage.slice(node.length + 2);
    const phase = PHASE_OF.find(([re]) => re.test(stage))?.[1];
    if (!phase) {
      other.push(stage);
      continue;
    }
    phases[phase] += r.ms / 1000;
    ok &&= r.ok;
  }
  const total = PHASES.reduce((a, p) => a + phases[p], 0);
  return { method, ok, phases, total, other };
}

/** `ratio classic/image: X.XX` — or why there is none. */
export function ratioLine(classic: MethodTimes | string, image: MethodTimes | string): string {
  if (typeof classic === 'string' || typeof image === 'string' || !classic.ok || !image.ok || image.total <= 0) {
    const why = [classic, image].map((m) => (typeof m === 'string' ? m : m.ok ? '' : `${m.method} failed`)).filter(Boolean).join('; ');
    return `ratio classic/image: n/a (${why || 'no image time'})`;
  }
  return `ratio classic/image: ${(classic.total / image.total).toFixed(2)}`;
}

export function methodTable(rows: readonly (MethodTimes | { method: string; error: string })[]): string {
  const head = ['method', 'PXE', 'install', 'reboot', 'first boot', 'deploy', 'total'];
  const lines = [head.map((h, i) => (i === 0 ? h.padEnd(9) : h.padStart(11))).join('')];
  for (const r of rows) {
    if ('error' in r) {
      lines.push(`${r.method.padEnd(9)}  ${r.error.split('\n')[0]?.slice(0, 160) ?? ''}`);
      continue;
    }
    const cells = [...PHASES.map((p) => r.phases[p]), r.total].map((s) => `${s.toFixed(1)} s`.padStart(11));
    lines.push(`${r.method.padEnd(9)}${cells.join('')}${r.ok ? '' : '  (failed)'}`);
  }
  return lines.join('\n');
}
