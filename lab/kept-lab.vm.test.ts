// `lab ls` / `lab down` / `lab console` / `lab disks` against real labs: a child
// process (lab/testing/hold-kept-lab.ts) holds a master network (containers,
// bridge, guard rules), a tap and a QEMU VM on it, published as a kept lab. Killed
// with SIGKILL it leaves what a crashed run leaves; held, it is a kept lab.
// The checks look with the real tools (docker, ip, iptables, /proc) and are
// scoped to the holder's own resources: other labs may run on this machine.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseJsonAs } from '../agent/core/parse-json.js';
import { ANY_EXIT, ExecaRunner, type RunResult, type StreamingProcess } from '../agent/core/runner.js';
import { LAB_LABEL, dockerProbe, networkInspectArgv, psByLabelArgv } from './master/docker-cli.js';
import { processGone } from './sweep-leftovers.js';
import { ECHO_PREFIX } from './testing/echo-initrd.js';
import { QEMU_BIN } from './vm/qemu.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const HOLDER = fileURLToPath(new URL('./testing/hold-kept-lab.ts', import.meta.url));
const runner = new ExecaRunner();

const heldFacts = z.object({
  pid: z.number(), network: z.string(), bridge: z.string(), tap: z.string(), vmDir: z.string(), qemuPid: z.number(), stateFile: z.string(),
});
type Held = z.output<typeof heldFacts>;
const resources = z.array(z.object({ kind: z.string(), id: z.string(), owner: z.number().optional(), state: z.string(), detail: z.string() }));

let stateDir = '';
let work = '';
const children: StreamingProcess[] = [];

const env = (): Record<string, string> => ({ FORGE_LAB_STATE_DIR: stateDir });
const lab = (args: string[]): Promise<RunResult> =>
  runner.run([process.execPath, '--import', 'tsx', CLI, ...args], { env: env(), timeoutMs: 5 * 60_000, okExitCodes: ANY_EXIT });

/** Starts the holder and waits for its facts line (it has booted its VM by then). */
async function startHolder(): Promise<{ held: Held; proc: StreamingProcess }> {
  const proc = runner.spawn([process.execPath, '--import', 'tsx', HOLDER, stateDir, work], { env: env(), timeoutMs: 10 * 60_000 });
  children.push(proc);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (c: string) => {
      buf += c;
      if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
    });
    proc.result.then((r) => reject(new Error(`holder exited early: ${r.stderr.slice(-2000)}`)), reject);
  });
  return { held: parseJsonAs(heldFacts, line, { source: 'holder' }), proc };
}

/** `lab ls --json`, only what belongs to the holder. */
async function lsOf(h: Held): Promise<{ kind: string; id: string; state: string }[]> {
  const r = await lab(['ls', '--json']);
  expect(r.exitCode).toBe(0);
  return parseJsonAs(resources, r.stdout, { source: 'lab ls --json' })
    .filter((x) => x.owner === h.pid || x.id === h.bridge || x.id === h.tap || x.id.startsWith(`${h.bridge}:`) || x.detail.includes(h.vmDir))
    .map(({ kind, id, state }) => ({ kind, id, state }));
}

async function expectNothingLeftOf(h: Held): Promise<void> {
  const sh = async (argv: string[]): Promise<string> => (await runner.run(argv, { readOnly: true, okExitCodes: ANY_EXIT })).stdout;
  expect((await sh(psByLabelArgv(`${LAB_LABEL}=${h.network}`))).trim()).toBe('');
  expect(await dockerProbe(runner, networkInspectArgv(h.network))).toBeUndefined();
  expect(await sh(['pgrep', '-af', QEMU_BIN])).not.toContain(h.vmDir);
  expect(processGone(h.qemuPid)).toBe(true);
  const links = await sh(['ip', '-o', 'link', 'show']);
  expect(links).not.toMatch(new RegExp(`\\d+: (${h.tap}|${h.bridge})[:@]`));
  for (const argv of [['iptables', '-S'], ['iptables', '-t', 'raw', '-S'], ['iptables', '-t', 'mangle', '-S'], ['ip6tables', '-S']]) {
    expect(await sh(argv)).not.toContain(`forge-guard:${h.bridge}:`);
  }
  expect(existsSync(h.vmDir)).toBe(false);
  expect(existsSync(h.stateFile)).toBe(false);
}

describe('lab ls / down / console / disks on real labs', () => {
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'forge-kept-state-'));
    work = mkdtempSync(join(tmpdir(), 'forge-kept-work-'));
  });
  afterAll(async () => {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.result.catch(() => undefined)));
    // Whatever a failed test left: the command under test is also the safety net.
    await lab(['down', '--timeout', '30']);
    rmSync(stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('a killed run: `lab ls` lists its leftovers, `lab down` removes them all and says so; a second down has nothing of it', async () => {
    const { held, proc } = await startHolder();
    proc.kill();
    await proc.result.catch(() => undefined);
    expect(processGone(held.pid)).toBe(true);

    const seen = await lsOf(held);
    const kinds = (state: string): string[] => [...new Set(seen.filter((r) => r.state === state).map((r) => r.kind))].sort();
    expect(kinds('leftover')).toEqual(['container', 'dir', 'guard-rule', 'kept-lab', 'link', 'network', 'qemu']);
    expect(kinds('running')).toEqual([]);
    expect(seen).toContainEqual({ kind: 'qemu', id: String(held.qemuPid), state: 'leftover' });
    expect(seen.filter((r) => r.kind === 'link').map((r) => r.id).sort()).toEqual([held.bridge, held.tap].sort());
    expect((await lab(['ls'])).stdout).toMatch(new RegExp(`^leftover\\s+qemu\\s+${held.qemuPid}\\s`, 'm'));

    const down = await lab(['down']);
    expect(down.stdout).toContain(`removed qemu ${held.qemuPid}`);
    expect(down.stdout).toContain(`removed network ${held.network} with its containers and taps`);
    expect(down.stdout).toMatch(/removed \d+ guard rule\(s\) of dead owners/);
    expect(down.stdout).toContain(`removed dir ${held.vmDir}`);
    expect(down.stdout).toContain(`removed kept-lab ${held.stateFile}`);
    await expectNothingLeftOf(held);
    expect(await lsOf(held)).toEqual([]);

    const again = await lab(['down']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).not.toContain(held.network);
  }, 8 * 60_000);

  it('a kept lab: console answers a typed line, disks powers the node off and reads it, down ends the owner cleanly', async () => {
    const { held, proc } = await startHolder();
    expect((await lsOf(held)).filter((r) => r.state !== 'running')).toEqual([]);

    // Not a TTY: stdin and stdout piped; the line comes back from the guest's shell, then end of input detaches.
    const con = runner.spawn([process.execPath, '--import', 'tsx', CLI, 'console', 'held'], { env: env(), timeoutMs: 120_000 });
    children.push(con);
    let text = '';
    con.stdout.setEncoding('utf8');
    con.stdout.on('data', (c: string) => (text += c));
    con.stdin.write('hello-from-the-test\n');
    for (let i = 0; i < 600 && !text.includes(`${ECHO_PREFIX}hello-from-the-test`); i++) await new Promise((r) => setTimeout(r, 100));
    expect(text).toContain(`${ECHO_PREFIX}hello-from-the-test`);
    con.stdin.end();
    const detached = await con.result;
    expect(detached.exitCode).toBe(0);
    expect(detached.stderr).toMatch(/detach: Ctrl-\]/);
    // The log got the session too (and the boot before any client attached).
    const log = readFileSync(join(held.vmDir, 'serial.log'), 'latin1');
    expect(log).toMatch(/FORGE-TINY-INIT-OK[\s\S]*echo: hello-from-the-test/);

    // ssh with the lab key to the node's recorded address, this process's stdio handed over; no sshd there.
    const ssh = await lab(['ssh', 'held', '--', 'true']);
    expect(ssh.exitCode).toBe(255);
    expect(ssh.stderr).toMatch(/connect to host \S+ port 22: Connection refused/);

    // The test guest ignores the power button: disks pulls the plug after --timeout.
    // Its state carries a plan the blank disk does not hold: the host-side checks say so, exit 1.
    const disks = await lab(['disks', 'held', '--timeout', '5']);
    expect(disks.stdout).toContain('held: powered off');
    expect(disks.stdout).toContain(`held disk 0: ${held.vmDir}/disk0.qcow2`);
    expect(disks.stdout).toMatch(/label none, 512-byte sectors, 0 partition\(s\)/);
    expect(disks.stdout).toMatch(/^FAIL disk 0: host: GPT label\s+label=undefined$/m);
    expect(disks.exitCode).toBe(1);
    expect(processGone(held.qemuPid)).toBe(true);
    // The owner keeps holding its lab with the node off.
    expect(processGone(held.pid)).toBe(false);

    const down = await lab(['down']);
    expect(down.stdout).toContain(`stopping lab owner ${held.pid}`);
    expect(down.stdout).toContain(`${held.pid} exited`);
    // Disposed as after Ctrl-C: exit 0, nothing left for down to sweep.
    expect((await proc.result).exitCode).toBe(0);
    expect(down.stdout).not.toContain(`removed network ${held.network}`);
    await expectNothingLeftOf(held);
  }, 8 * 60_000);
});
