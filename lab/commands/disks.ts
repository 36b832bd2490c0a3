// `lab disks [--lab PID] <node> [--timeout S]`: the host-side reading of a kept
// node's disks. A running node is powered off first (ACPI power button over the
// VM's control QMP socket, then QEMU quits, so the qcow2 files are flushed and
// unlocked); each disk is converted to raw and its partition table read as
// lab/verify/host-disk.ts does — with the PASS/FAIL of its checks when the plan is known.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import { findKeptNode, listKeptLabs, type KeptNode } from '../kept-lab.js';
import { processGone } from '../sweep-leftovers.js';
import type { Check } from '../verify/first-boot.js';
import { hostDiskChecks, readPartitionTable, type HostDiskView } from '../verify/host-disk.js';
import { qcow2ToRaw } from '../vm/qemu-img.js';
import { QmpClient } from '../vm/qmp.js';
import { pollUntil } from '../vm/wait.js';

async function connectControl(path: string): Promise<QmpClient | undefined> {
  if (!existsSync(path)) return undefined;
  // Refused = no QEMU behind the socket (it stopped and left the file).
  return QmpClient.connect(path, 2000).catch(() => undefined);
}

/** Powers the node off (power button, then pull the plug after `timeoutMs`) and waits for QEMU to exit. */
export async function powerOffNode(node: KeptNode, timeoutMs: number, out: (l: string) => void): Promise<void> {
  const qmp = await connectControl(node.controlSocket);
  if (!qmp) {
    out(`${node.name}: not running`);
    return;
  }
  try {
    const s = await qmp.queryStatus();
    if (s.running) {
      out(`${node.name}: power button (ACPI), waiting up to ${Math.round(timeoutMs / 1000)} s for the guest to power off`);
      await qmp.powerdown();
      const off = await pollUntil(`${node.name} power off`, async () => {
        const st = await qmp.queryStatus();
        return st.status === 'shutdown' || !st.running ? true : undefined;
      }, { timeoutMs, pollMs: 500 }).catch(() => false);
      if (!off) out(`${node.name}: the guest did not power off (no ACPI handling?); stopping QEMU anyway — filesystems may be unclean`);
    }
    await qmp.quit();
  } finally {
    qmp.close();
  }
  // QEMU holds a write lock on its images until it exits.
  const pid = node.qemuPid;
  const answers = async (): Promise<boolean> => {
    const c = await connectControl(node.controlSocket);
    c?.close();
    return c !== undefined;
  };
  await pollUntil(`${node.name} QEMU exit`, async () => ((!pid || processGone(pid)) && !(await answers()) ? true : undefined), { timeoutMs: 30_000, pollMs: 200 });
  out(`${node.name}: powered off`);
}

export function formatView(view: HostDiskView): string[] {
  const lines = [`  label ${view.label ?? 'none'}, ${view.sectorSize}-byte sectors, ${view.partitions.length} partition(s)`];
  for (const p of view.partitions) {
    const num = /(\d+)$/.exec(p.node)?.[1] ?? p.node;
    const mib = (p.size * view.sectorSize) / 2 ** 20;
    lines.push(`  #${num.padEnd(3)} start ${String(p.start).padStart(10)}  size ${String(p.size).padStart(10)} (${mib.toFixed(0)} MiB)  type ${p.type}${p.name ? `  name ${p.name}` : ''}`);
  }
  return lines;
}

/** Each disk's partition table (and checks against the plan, when known). */
export async function readNodeDisks(runner: Runner, node: KeptNode, out: (l: string) => void): Promise<Check[]> {
  const work = mkdtempSync(join(tmpdir(), 'forge-disks-'));
  const checks: Check[] = [];
  try {
    for (const [i, d] of node.disks.entries()) {
      out(`${node.name} disk ${i}: ${d.file}`);
      if (node.plan) {
        const r = await hostDiskChecks(runner, d.file, work, node.plan, i);
        for (const l of formatView(r.view)) out(l);
        checks.push(...r.checks.map((c) => ({ ...c, name: `disk ${i}: ${c.name}` })));
        continue;
      }
      const raw = join(work, `${basename(d.file)}.raw`);
      await qcow2ToRaw(runner, d.file, raw);
      try {
        for (const l of formatView(await readPartitionTable(runner, raw, d.sectorSize))) out(l);
      } finally {
        rmSync(raw, { force: true });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return checks;
}

export async function disksCommand(args: string[], _signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { lab: { type: 'string' }, timeout: { type: 'string' } } });
  const name = positionals[0];
  if (!name) throw new ForgeError('USAGE', 'usage: lab disks [--lab PID] <node> [--timeout SECONDS]', { field: 'node' });
  const timeoutS = Number(values.timeout ?? 180);
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new ForgeError('USAGE', `--timeout must be seconds, got ${values.timeout}`, { field: 'timeout' });
  const { node } = findKeptNode(listKeptLabs(), name, values.lab === undefined ? undefined : Number(values.lab));
  const out = (l: string): void => void process.stdout.write(l + '\n');
  await powerOffNode(node, timeoutS * 1000, out);
  const checks = await readNodeDisks(new ExecaRunner(), node, out);
  if (!node.plan) out('(no plan recorded for this node: partition tables only)');
  for (const c of checks) out(`${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(48)} ${c.detail}`);
  return checks.every((c) => c.ok) ? 0 : 1;
}
