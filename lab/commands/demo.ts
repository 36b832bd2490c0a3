// `lab demo [--scenario NAME] [--method image|classic] [--keep]`: one VM end to end,
// the lab's main job (npm run lab). Live progress on a terminal, plain lines in CI
// logs; a run report (reports/demo-*.html) whatever the outcome; --keep leaves the
// node running from its disk and the lab up until Ctrl-C or `lab down`.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCtx } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import { createLogger, fileSink } from '../../agent/core/log.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { ensureDeployImage } from '../../agent/host/artifacts.js';
import { buildBootstrap } from '../../agent/host/ramdisk/build.js';
import type { Plan } from '../../agent/plan/types.js';
import { publishImage } from '../images.js';
import { holdKeptLab, keptLabOf, keptNodeOfVm, planFromReport, type KeptNode } from '../kept-lab.js';
import { orchestratorEnv, startLab, type Lab } from '../lab.js';
import { DEFAULT_PROFILES } from '../mocks/provision-rpc.js';
import { agentLineFeed, buildStepSink, stageFeed } from '../progress-feed.js';
import { ProgressConsole } from '../progress.js';
import { NodeRecord, runReportOf } from '../report/record.js';
import { writeRunReport } from '../report/render.js';
import { LAB_METHODS, runScenarioOnNode, type LabMethod } from '../scenario-run.js';
import { LAB_SCENARIOS, labScenario, type LabScenarioName } from '../scenario.js';
import { Stages } from '../stages.js';
import type { Check } from '../verify/first-boot.js';
import { labMac } from '../vm/qemu.js';
import { cacheDir } from '../vm/test-kernel.js';
import { tcpPort } from '../vm/wait.js';
import { parseLabArgs } from './args.js';

export const DEMO_USAGE = [
  'usage: tsx lab/cli.ts demo [--scenario NAME] [--method image|classic] [--keep]     provision one VM end to end',
  '         methods: image (default; the agent from the bootstrap) or classic (debian-installer with a preseed Cobbler renders)',
  `         scenarios: ${LAB_SCENARIOS.join(', ')} (default two-disks-raid-lvm)`,
  '         --keep: afterwards the node runs again from its disk and the lab stays up (also after a failure) until Ctrl-C or `down`',
].join('\n');

const OPTIONS = { scenario: { type: 'string' }, method: { type: 'string' }, keep: { type: 'boolean' } } as const;

export async function demoCommand(args: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseLabArgs(args, OPTIONS, DEMO_USAGE);
  const name = (values.scenario ?? 'two-disks-raid-lvm') as LabScenarioName;
  if (!(LAB_SCENARIOS as readonly string[]).includes(name)) throw new ForgeError('USAGE', `unknown scenario ${name}\n${DEMO_USAGE}`, { field: 'scenario' });
  const method = (values.method ?? 'image') as LabMethod;
  if (!LAB_METHODS.includes(method)) throw new ForgeError('USAGE', `unknown method ${method}: image or classic\n${DEMO_USAGE}`, { field: 'method' });
  // A live status line on a terminal; CI logs (no TTY, TERM=dumb) get plain lines only.
  const pc = new ProgressConsole(process.stdout, { tty: process.stdout.isTTY === true && process.env['TERM'] !== 'dumb' });
  const out = (l: string): void => pc.line(l);
  const runner = new ExecaRunner();
  mkdirSync(join(cacheDir(), 'lab'), { recursive: true });
  const ctx = createCtx({ runner, signal, log: createLogger([fileSink(join(cacheDir(), 'lab', 'build.log')), buildStepSink(pc)]) });
  const stages = new Stages(stageFeed(pc), signal);
  const startedAt = new Date();
  const node = { name: 'node-1', hostname: 'node-1.domain.tld', macs: [labMac(1)], profile: DEFAULT_PROFILES.bootstrap, role: 'compute' };
  const record = new NodeRecord(node.name, name, method);
  const checks: Check[] = [];
  let summarized = false;
  const summary = (): void => {
    summarized = true;
    pc.close();
    out('\n== stage timings ==');
    out(stages.table());
    out(`total ${(stages.records.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)} s`);
    if (checks.length) {
      out('\n== verification ==');
      for (const c of checks) out(`${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(44)} ${c.detail}`);
    }
    const rerun = `npx tsx lab/cli.ts demo --scenario ${name} --method ${method}`;
    const files = writeRunReport(runReportOf({ kind: 'demo', title: `lab demo: ${name} (${method})`, rerun, startedAt, stages: stages.records, nodes: [record] }));
    out(`\nreport: ${files.html}`);
  };
  out(`fuel-forge lab demo: scenario ${name}, method ${method} (build log: ${join(cacheDir(), 'lab', 'build.log')})`);
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  try {
    const boot = await stages.run('bootstrap ramdisk (build or cache)', 60 * 60_000, () => buildBootstrap(ctx));
    // The deploy profile: the node must serve the deployment after first boot (mcollective, puppet).
    const built = await stages.run('OS image, deploy profile (build or cache)', 60 * 60_000, () => ensureDeployImage(ctx));
    const image = publishImage(imagesDir, built);
    await using lab = await stages.run('lab: master containers + mock Cobbler/Nailgun', 15 * 60_000, () =>
      startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir, keepDir: values.keep ?? false }));
    out(`master: Nailgun ${lab.masterUrl}, images ${lab.imagesUrl}, bridge ${lab.master.bridge} (${lab.master.subnet})`);
    // With --keep a failed run keeps its lab as it is, for a look at the node.
    let failure: unknown;
    let plan: Plan | undefined;
    try {
      const env = { ...orchestratorEnv(lab, stages, out), agentLine: agentLineFeed(pc) };
      const r = await runScenarioOnNode({ lab, runner, image, scenario: labScenario(name), method, env, node, record });
      checks.push(...r.checks);
      plan = planFromReport(r.report);
    } catch (e) {
      if (!values.keep || signal.aborted) throw e;
      failure = e;
    }
    if (values.keep) {
      summary();
      if (failure) out(`\nthe run failed: ${(failure as Error).message.split('\n')[0] ?? ''}\nkeeping the lab as it is`);
      const keptIp = failure ? undefined : await powerOnKept(lab, node.name, signal, out);
      const nodes: KeptNode[] = [];
      for (const [n, vm] of lab.vms) {
        const ip = (n === node.name ? keptIp : undefined) ?? (await lab.deploy.nodeIp(vm.spec.nics[0]?.mac ?? ''));
        nodes.push(keptNodeOfVm(n, vm, { ...(ip ? { ip } : {}), ...(n === node.name && plan ? { plan } : {}) }));
      }
      await holdKeptLab(keptLabOf(lab, 'demo', nodes), signal, out);
      out(`lab directory kept: ${lab.dir}`);
    }
    if (failure) throw failure;
  } catch (e) {
    // Failed before the node's run began (a build, the lab's start): the report says so.
    if (!record.report.error && record.report.checks.length === 0) record.fail(e);
    throw e;
  } finally {
    rmSync(imagesDir, { recursive: true, force: true });
    if (!summarized) summary();
  }
  return checks.length > 0 && checks.every((c) => c.ok) ? 0 : 1;
}

/**
 * A kept node runs again: powered on from its provisioned disk (netboot is off), ssh awaited.
 * Returns the address it waited on: the installed system's, read before the power-on —
 * after it the newest lease can be the PXE ROM's (iPXE asks DHCP before it hands over to
 * the disk, under another client id, so another address).
 */
async function powerOnKept(lab: Lab, name: string, signal: AbortSignal, out: (l: string) => void): Promise<string | undefined> {
  const mac = lab.vms.get(name)?.spec.nics[0]?.mac;
  const ip = mac ? await lab.deploy.nodeIp(mac) : undefined;
  out(`\n${name}: powering on from its disk`);
  await lab.client.power(name, 'on');
  if (!ip) return undefined;
  try {
    await tcpPort(ip, 22, { timeoutMs: 10 * 60_000, pollMs: 2000 }).until(signal);
    out(`${name}: sshd answers on ${ip}`);
  } catch (e) {
    if (signal.aborted) throw e;
    out(`${name}: sshd on ${ip} is not answering yet (\`console ${name}\` shows why)`);
  }
  return ip;
}
