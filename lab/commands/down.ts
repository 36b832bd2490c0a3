// `lab down [--all] [--timeout S]`: ends every kept lab (SIGTERM to its owner,
// which disposes it as after Ctrl-C; SIGKILL after the timeout), then removes
// every leftover of runs that died (lab/sweep-leftovers.ts). Labs of other live
// processes (a demo or a test running now) are left alone unless --all, which
// also ends those owners and stops the dockerd the lab started. Idempotent.
import { parseArgs } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { discoverLabResources, formatResources, type LabResource } from '../resources.js';
import { removeLeftovers, stopOwner } from '../sweep-leftovers.js';

/** Owners `down` ends: kept labs' always; with --all every live owner of a lab resource (never this process or its parent). */
export function ownersToStop(found: readonly LabResource[], all: boolean): number[] {
  const mine = new Set([process.pid, process.ppid]);
  const pids = found.flatMap((r) => (r.state === 'running' && r.owner !== undefined && (all || r.kind === 'kept-lab') ? [r.owner] : []));
  return [...new Set(pids)].filter((p) => !mine.has(p));
}

export async function downCommand(args: string[], _signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({ args, options: { all: { type: 'boolean' }, timeout: { type: 'string' } } });
  const timeoutS = Number(values.timeout ?? 180);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new ForgeError('USAGE', `--timeout must be seconds, got ${values.timeout}`, { field: 'timeout' });
  const all = values.all === true;
  const runner = new ExecaRunner();
  const out = (l: string): void => void process.stdout.write(l + '\n');
  const discover = (): Promise<LabResource[]> => discoverLabResources(runner);

  for (const pid of ownersToStop(await discover(), all)) {
    out(`stopping lab owner ${pid} (SIGTERM; it tears its lab down)`);
    const how = await stopOwner(pid, timeoutS * 1000);
    out(how === 'exited' ? `  ${pid} exited` : `  ${pid} did not exit within ${timeoutS} s: killed; its resources are leftovers now`);
  }
  const report = await removeLeftovers(runner, discover);
  for (const r of report.removed) out(`removed ${r}`);
  for (const f of report.failed) out(`FAILED to remove ${f}`);

  let after = await discover();
  const dockerd = after.filter((r) => r.kind === 'dockerd');
  if (all && dockerd.length && !after.some((r) => r.kind !== 'dockerd' && r.state === 'running')) {
    for (const d of dockerd) {
      const how = await stopOwner(Number(d.id), 60_000);
      out(`stopped the lab's dockerd ${d.id} (${how})`);
    }
    after = await discover();
  }
  if (!report.removed.length && !report.failed.length) out('no leftovers to remove');
  const remaining = after.filter((r) => r.state !== 'kept' && r.kind !== 'dockerd');
  if (remaining.length) {
    out('\nstill there (owned by live processes — `lab down --all` ends them — or not ours to judge):');
    for (const l of formatResources(remaining)) out(l);
  }
  const kept = after.filter((r) => r.state === 'kept');
  if (kept.length) out(`\nkept directories (artifacts of --keep runs; remove by hand): ${kept.map((r) => r.id).join(' ')}`);
  return report.failed.length || remaining.some((r) => r.state === 'leftover') ? 1 : 0;
}
