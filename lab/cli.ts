// The lab's commands:
//   demo                                   provision one VM end to end (npm run lab)
//   replay <provision.json> [--inventory F] [--disk-mib N,N]   run `provision` on a field case in a VM
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCtx } from '../agent/core/context.js';
import { ForgeError, isForgeError } from '../agent/core/errors.js';
import { createLogger, fileSink } from '../agent/core/log.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { buildImage } from '../agent/build-image/build-image.js';
import { buildBootstrap } from '../agent/bootstrap/build.js';
import { publishImage } from './images.js';
import { startLab } from './lab.js';
import { runScenarioOnNode } from './scenario-run.js';
import { LAB_SCENARIOS, labScenario, type LabScenarioName } from './scenario.js';
import { Stages } from './stages.js';
import { labMac } from './vm/qemu.js';
import { runInVm } from './vm/run-in-vm.js';
import type { Check } from './verify/first-boot.js';
import { cacheDir } from './vm/test-kernel.js';

const out = (l: string): void => {
  process.stdout.write(l + '\n');
};

const USAGE = [
  'usage: tsx lab/cli.ts demo [--scenario NAME] [--keep]     provision one VM end to end',
  `         scenarios: ${LAB_SCENARIOS.join(', ')} (default two-disks-raid-lvm)`,
  '       tsx lab/cli.ts replay <provision.json> [--inventory FILE] [--disk-mib N,N]   run `provision` on a field case in a VM',
].join('\n');

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { scenario: { type: 'string' }, keep: { type: 'boolean' } } });
  const name = (values.scenario ?? 'two-disks-raid-lvm') as LabScenarioName;
  if (!(LAB_SCENARIOS as readonly string[]).includes(name)) throw new ForgeError('USAGE', `unknown scenario ${name}\n${USAGE}`, { field: 'scenario' });
  const runner = new ExecaRunner();
  mkdirSync(join(cacheDir(), 'lab'), { recursive: true });
  const ctx = createCtx({ runner, log: createLogger([fileSink(join(cacheDir(), 'lab', 'build.log'))]) });
  const stages = new Stages(out);
  out(`fuel-forge lab demo: scenario ${name} (build log: ${join(cacheDir(), 'lab', 'build.log')})`);
  const boot = await stages.run('bootstrap ramdisk (build or cache)', 60 * 60_000, () => buildBootstrap(ctx));
  const built = await stages.run('OS image, tiny profile (build or cache)', 60 * 60_000, () => buildImage(ctx, { profile: 'tiny' }));
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  const image = publishImage(imagesDir, built);
  const checks: Check[] = [];
  try {
    await using lab = await stages.run('lab: master containers + mock Cobbler/Nailgun', 15 * 60_000, () =>
      startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir, keepDir: values.keep ?? false }));
    out(`master: Nailgun ${lab.masterUrl}, images ${lab.imagesUrl}, bridge ${lab.master.bridge} (${lab.master.subnet})`);
    const r = await runScenarioOnNode({
      lab, runner, image, scenario: labScenario(name),
      env: { nailgun: lab.nailgun, cobbler: lab.client, stages, log: out },
      node: { name: 'node-1', hostname: 'node-1.domain.tld', macs: [labMac(1)], profile: 'bootstrap' },
    });
    checks.push(...r.checks);
    if (values.keep) out(`lab directory kept: ${lab.dir}`);
  } finally {
    rmSync(imagesDir, { recursive: true, force: true });
    out('\n== stage timings ==');
    out(stages.table());
    out(`total ${(stages.records.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)} s`);
    if (checks.length) {
      out('\n== verification ==');
      for (const c of checks) out(`${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(44)} ${c.detail}`);
    }
  }
  return checks.length > 0 && checks.every((c) => c.ok) ? 0 : 1;
}

async function replay(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { inventory: { type: 'string' }, 'disk-mib': { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new ForgeError('USAGE', 'usage: lab replay <provision.json> [--inventory FILE] [--disk-mib N,N,...]');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { ks_meta?: { pm_data?: { ks_spaces?: { type?: string; size?: number }[] } } };
  const sizes = values['disk-mib']
    ? values['disk-mib'].split(',').map(Number)
    : (data.ks_meta?.pm_data?.ks_spaces ?? []).filter((s) => s.type === 'disk').map((s) => Math.max(1024, Number(s.size ?? 0)));
  const uploads: Record<string, string> = { '/tmp/provision.json': readFileSync(file, 'utf8') };
  const argv = ['provision', 'run', '--input', '/tmp/provision.json'];
  if (values.inventory) {
    uploads['/tmp/inventory.json'] = readFileSync(values.inventory, 'utf8');
    argv.push('--inventory', '/tmp/inventory.json');
  }
  out(`replay: ${sizes.length} disk(s) ${sizes.join(',')} MiB`);
  const r = await runInVm({ disks: sizes.map((s) => ({ sizeMiB: s })), uploads, tasks: [argv], onLog: (l) => out(`  ${l.slice(0, 200)}`), keepDir: true });
  const res = r.results[0];
  out(`exit ${res?.result.exitCode}; boot ${(r.timings.bootMs / 1000).toFixed(1)} s, run ${(r.timings.tasksMs / 1000).toFixed(1)} s; VM dir (disks, serial.log): ${r.vmDir}`);
  out(res?.result.stdout ?? '');
  return res?.result.exitCode ?? 1;
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'demo':
      return demo(rest);
    case 'replay':
      return replay(rest);
    default:
      out(USAGE);
      return 2;
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`lab: ${isForgeError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack : String(e)}\n`);
  if (isForgeError(e) && Object.keys(e.details).length) process.stderr.write(JSON.stringify(e.details, null, 2).slice(0, 4000) + '\n');
  process.exit(1);
});
