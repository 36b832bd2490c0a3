// The bootstrap node's main loop (`provision bootstrap-daemon`): report discovery
// to the master, then poll for tasks and run them one at a time (protocol.ts).
// With forge.provision_url it instead fetches provision.json and runs `provision`.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { parseJsonAs } from '../core/parse-json.js';
import { ToolError } from '../core/runner.js';
import { discoverInventory } from '../inventory/discover.js';
import { VERSION } from '../version.js';
import { VERSION_MARKER } from './daemon-markers.js';
import { type BootstrapParams, parseBootstrapParams } from './kernel-params.js';
import { LogShipper } from './log-shipper.js';
import { MasterClient } from './master-client.js';
import type { DiscoveryReport, Task } from './protocol.js';
import { runTask, type TaskEnv } from './tasks.js';

export interface DaemonOptions {
  /** Kernel command line (default: /proc/cmdline). */
  cmdline?: string;
  /** Where NICs are listed (default /sys/class/net). */
  sysClassNet?: string;
  /**
   * argv that prints the inventory JSON instead of reading it in this process (tests).
   * By default the daemon reads it itself: a `provision inventory` child would be one
   * more Node start-up per discovery (seconds on a slow node, more under emulation).
   */
  inventoryArgv?: readonly string[];
  /** argv of a full provisioning run (default: `provision`). */
  provisionArgv?: readonly string[];
  /** Console lines (markers); default stdout. */
  say?: (line: string) => void;
  sysrq?: (key: 'b' | 'o') => Promise<void>;
  /** Stop after this many tasks (tests); default run forever. */
  maxTasks?: number;
  random?: () => number;
}

/**
 * The wait between idle polls: the interval spread over ±50 % at random. Nodes
 * powered on together would otherwise poll the master in step, all of them in
 * the same instant every interval (field failure 16); the mean stays the interval.
 */
export function idlePollMs(pollMs: number, random: () => number): number {
  return Math.round(pollMs * (0.5 + random()));
}

export async function readMacs(sysClassNet = '/sys/class/net'): Promise<string[]> {
  const names = (await readdir(sysClassNet).catch(() => [] as string[])).filter((n) => n !== 'lo').sort();
  const macs: string[] = [];
  for (const n of names) {
    const mac = (await readFile(join(sysClassNet, n, 'address'), 'utf8').catch(() => '')).trim().toLowerCase();
    if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && mac !== '00:00:00:00:00:00' && !macs.includes(mac)) macs.push(mac);
  }
  return macs;
}

async function inventory(ctx: Ctx, argv: readonly string[] | undefined): Promise<unknown> {
  try {
    if (!argv) return await discoverInventory(ctx);
    const r = await ctx.run(argv, { readOnly: true, timeoutMs: 120_000 });
    // Forwarded as the command printed it; the master reads it as an inventory.
    return parseJsonAs(z.unknown(), r.stdout, { command: argv });
  } catch (e) {
    // Discovery must still happen: the master shows why the inventory is missing.
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

async function defaultSysrq(key: 'b' | 'o'): Promise<void> {
  await writeFile('/proc/sysrq-trigger', key);
}

export async function runDaemon(ctx: Ctx, o: DaemonOptions = {}): Promise<number> {
  const say = o.say ?? ((l: string) => process.stdout.write(l + '\n'));
  // First, before anything can fail: the console shows which agent runs, and that its runtime starts.
  say(`${VERSION_MARKER} provision ${VERSION}`);
  const cmdline = o.cmdline ?? (await readFile('/proc/cmdline', 'utf8'));
  const params: BootstrapParams = parseBootstrapParams(cmdline);
  const provisionArgv = o.provisionArgv ?? ['provision'];

  if (params.provisionUrl) return provisionFromUrl(ctx, params, provisionArgv, say);
  if (!params.master) {
    say('FORGE-BOOTSTRAP: no forge.master on the kernel command line; idle');
    return 0;
  }
  const random = o.random ?? Math.random;
  const client = new MasterClient({ master: params.master, clock: ctx.clock, signal: ctx.signal, ...(o.random ? { random: o.random } : {}) });
  const macs = await readMacs(o.sysClassNet);
  const first = macs[0];
  if (!first) throw new ForgeError('DEVICE_NOT_READY', 'no network interface with a MAC address: cannot talk to the master');
  const report: DiscoveryReport = {
    macs,
    inventory: await inventory(ctx, o.inventoryArgv),
    agentVersion: `provision ${VERSION}`,
    cmdline: cmdline.trim(),
  };
  const { id } = await client.retry('discover', () => client.discover(report), (e, n) =>
    say(`FORGE-BOOTSTRAP: discovery failed (attempt ${n + 1}): ${(e as Error).message}`),
  );
  say(`FORGE-BOOTSTRAP: discovered id=${id} mac=${first}`);

  let done = 0;
  while (o.maxTasks === undefined || done < o.maxTasks) {
    const task: Task | undefined = await client.retry('poll', () => client.nextTask(first), (e, n) => {
      if (n % 5 === 0) say(`FORGE-BOOTSTRAP: poll failed: ${(e as Error).message}`);
    });
    if (!task) {
      await ctx.clock.sleep(idlePollMs(params.pollMs, random), ctx.signal);
      continue;
    }
    done++;
    say(`FORGE-TASK: start ${task.id} ${task.kind}`);
    const shipper = new LogShipper({
      send: (lines) => client.postLog(task.id, lines),
      clock: ctx.clock,
      ...(o.random ? { random: o.random } : {}),
    });
    const env: TaskEnv = { ctx, shipper, sysrq: o.sysrq ?? defaultSysrq };
    let result;
    try {
      result = await runTask(task, env);
    } catch (e) {
      result = { exitCode: 2, stdout: '', stderrTail: e instanceof Error ? e.message : String(e), durationMs: 0 };
    }
    await shipper.close();
    await client.retry('result', () => client.postResult(task.id, result), () => undefined);
    say(`FORGE-TASK: done ${task.id} exit=${result.exitCode}`);
    if (task.kind === 'reboot' || task.kind === 'poweroff') {
      await ctx.runner.run(['sync'], { timeoutMs: 60_000 }).catch(() => undefined);
      say(`FORGE-BOOTSTRAP: ${task.kind}`);
      await env.sysrq(task.kind === 'reboot' ? 'b' : 'o');
      return 0;
    }
  }
  return 0;
}

async function provisionFromUrl(
  ctx: Ctx,
  params: BootstrapParams,
  provisionArgv: readonly string[],
  say: (l: string) => void,
): Promise<number> {
  const url = params.provisionUrl as string;
  const client = new MasterClient({ master: params.master ?? url, clock: ctx.clock, signal: ctx.signal });
  const body = await client.retry('fetch provision.json', () => client.fetchText(url), (e, n) =>
    say(`FORGE-PROVISION: fetch failed (attempt ${n + 1}): ${(e as Error).message}`),
  );
  await writeFile('/tmp/provision.json', body);
  say(`FORGE-PROVISION: running ${provisionArgv.join(' ')} with ${url}`);
  let code: number;
  try {
    // The agent's JSON-lines log goes to the console as it runs (and to its own log file).
    const r = await ctx.run(provisionArgv, { timeoutMs: 4 * 60 * 60_000, onStderrLine: (l) => process.stderr.write(l + '\n') });
    process.stdout.write(r.stdout);
    code = r.exitCode;
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    process.stdout.write(e.result.stdout);
    code = e.result.exitCode;
  }
  say(`FORGE-PROVISION: exit ${code}`);
  return code;
}
