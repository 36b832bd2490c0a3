// The lab's commands:
//   demo                                   provision one VM end to end (npm run lab)
//   replay <provision.json> [--inventory F] [--disk-mib N,N] [--keep-image]   a field case in a VM
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCtx } from '../agent/core/context.js';
import { ForgeError, isForgeError } from '../agent/core/errors.js';
import { printError } from '../agent/core/format-error.js';
import { abortOnSignals } from '../agent/core/signals.js';
import { createLogger, fileSink } from '../agent/core/log.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { buildImage } from '../agent/host/image/build-image.js';
import { buildBootstrap } from '../agent/host/ramdisk/build.js';
import { publishImage } from './images.js';
import { orchestratorEnv, startLab } from './lab.js';
import { LAB_METHODS, runScenarioOnNode, type LabMethod } from './scenario-run.js';
import { disksFromInventory, imageDataFor, LAB_SCENARIOS, labScenario, retargetToVm, type LabScenarioName } from './scenario.js';
import { DEFAULT_PROFILES } from './mocks/provision-rpc.js';
import { loadInventory } from '../agent/inventory/load.js';
import type { VmDiskSpec } from './vm/qemu.js';
import { Stages } from './stages.js';
import { labMac } from './vm/qemu.js';
import { bootVmNode } from './vm/run-in-vm.js';
import type { Check } from './verify/first-boot.js';
import { cacheDir } from './vm/test-kernel.js';

const out = (l: string): void => {
  process.stdout.write(l + '\n');
};

const USAGE = [
  'usage: tsx lab/cli.ts demo [--scenario NAME] [--method image|classic] [--keep]     provision one VM end to end',
  '         methods: image (default; the agent from the bootstrap) or classic (debian-installer with a preseed Cobbler renders)',
  `         scenarios: ${LAB_SCENARIOS.join(', ')} (default two-disks-raid-lvm)`,
  '       tsx lab/cli.ts replay <provision.json> [--inventory FILE] [--disk-mib N,N] [--keep-image]',
  '                                   a field case in a VM: its layout on VM disks, `provision run` + `verify`',
].join('\n');

async function demo(args: string[], signal: AbortSignal): Promise<number> {
  const { values } = parseArgs({ args, options: { scenario: { type: 'string' }, method: { type: 'string' }, keep: { type: 'boolean' } } });
  const name = (values.scenario ?? 'two-disks-raid-lvm') as LabScenarioName;
  if (!(LAB_SCENARIOS as readonly string[]).includes(name)) throw new ForgeError('USAGE', `unknown scenario ${name}\n${USAGE}`, { field: 'scenario' });
  const method = (values.method ?? 'image') as LabMethod;
  if (!LAB_METHODS.includes(method)) throw new ForgeError('USAGE', `unknown method ${method}: image or classic\n${USAGE}`, { field: 'method' });
  const runner = new ExecaRunner();
  mkdirSync(join(cacheDir(), 'lab'), { recursive: true });
  const ctx = createCtx({ runner, signal, log: createLogger([fileSink(join(cacheDir(), 'lab', 'build.log'))]) });
  const stages = new Stages(out, signal);
  out(`fuel-forge lab demo: scenario ${name}, method ${method} (build log: ${join(cacheDir(), 'lab', 'build.log')})`);
  const boot = await stages.run('bootstrap ramdisk (build or cache)', 60 * 60_000, () => buildBootstrap(ctx));
  // The deploy profile: the node must serve the deployment after first boot (mcollective, puppet).
  const built = await stages.run('OS image, deploy profile (build or cache)', 60 * 60_000, () => buildImage(ctx, { profile: 'deploy' }));
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  const image = publishImage(imagesDir, built);
  const checks: Check[] = [];
  try {
    await using lab = await stages.run('lab: master containers + mock Cobbler/Nailgun', 15 * 60_000, () =>
      startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir, keepDir: values.keep ?? false }));
    out(`master: Nailgun ${lab.masterUrl}, images ${lab.imagesUrl}, bridge ${lab.master.bridge} (${lab.master.subnet})`);
    const r = await runScenarioOnNode({
      lab, runner, image, scenario: labScenario(name), method,
      env: orchestratorEnv(lab, stages, out),
      node: { name: 'node-1', hostname: 'node-1.domain.tld', macs: [labMac(1)], profile: DEFAULT_PROFILES.bootstrap, role: 'compute' },
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

/**
 * A field case in a VM: the data's layout on VM disks of the data's sizes (bus and
 * sector size from --inventory when given), retargeted to the VM's disk names and
 * links, with the lab's tiny image on / unless --keep-image. Runs `provision run`
 * then `provision verify`, and keeps the VM directory (disks, serial log).
 */
async function replay(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { inventory: { type: 'string' }, 'disk-mib': { type: 'string' }, 'keep-image': { type: 'boolean' } },
  });
  const file = positionals[0];
  if (!file) throw new ForgeError('USAGE', `replay needs a provision.json\n${USAGE}`, { field: 'file' });
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, any>;
  const spaces = ((data['ks_meta']?.pm_data?.ks_spaces ?? []) as { type?: string; size?: number }[]).filter((s) => s.type === 'disk');
  const inventory = values.inventory ? await loadInventory(values.inventory) : undefined;
  const fromInv = inventory ? disksFromInventory(inventory) : [];
  const sizes = values['disk-mib']?.split(',').map(Number);
  const disks: VmDiskSpec[] = spaces.map((s, i) => ({
    ...(fromInv[i] ?? {}),
    sizeMiB: sizes?.[i] ?? fromInv[i]?.sizeMiB ?? Math.max(1024, Number(s.size ?? 0)),
    serial: `replay-${i}`,
  }));
  const runner = new ExecaRunner();
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  const built = values['keep-image'] ? undefined : await buildImage(createCtx({ runner, signal }), { profile: 'tiny' });
  const image = built ? publishImage(imagesDir, built) : undefined;
  out(`replay: ${disks.map((d) => `${d.bus ?? 'virtio'}/${d.logicalBlockSize ?? 512}/${d.sizeMiB}MiB`).join(' ')}`);
  await buildBootstrap(createCtx({ runner, signal }));
  try {
    await using node = await bootVmNode({ disks, keepDir: true, runner, ...(image ? { imagesDir } : {}) });
    const retargeted = retargetToVm(data, disks);
    if (image) retargeted['ks_meta'].image_data = { '/': imageDataFor(image.meta, image.file, node.imagesUrl) };
    await node.upload('/tmp/provision.json', JSON.stringify(retargeted, null, 2));
    let code = 0;
    for (const argv of [['provision', 'run', '--input', '/tmp/provision.json'], ['provision', 'verify', '--input', '/tmp/provision.json']]) {
      const r = await node.run(argv, { onLog: (l) => out(`  ${l.slice(0, 200)}`) });
      out(`${argv.slice(0, 2).join(' ')}: exit ${r.exitCode}`);
      if (argv[1] === 'verify') out(r.stdout);
      code ||= r.exitCode;
      if (r.exitCode !== 0) {
        out(r.stdout.slice(-4000));
        break;
      }
    }
    out(`boot ${(node.bootMs / 1000).toFixed(1)} s; VM dir (disks, serial.log): ${node.dir}`);
    return code;
  } finally {
    rmSync(imagesDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  // Ctrl-C ends the stage in progress; `await using` then tears the lab down (VMs, containers, bridge).
  using scope = abortOnSignals();
  switch (cmd) {
    case 'demo':
      return await demo(rest, scope.signal);
    case 'replay':
      return await replay(rest, scope.signal);
    default:
      out(USAGE);
      return 2;
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  const err = (t: string): void => void process.stderr.write(t + '\n');
  // The provision CLI's renderer; a lab failure also shows its details, and a bug its stack.
  const code = printError(e, err, { stack: !isForgeError(e) || Boolean(process.env.FORGE_DEBUG) });
  if (isForgeError(e) && Object.keys(e.details).length) err(JSON.stringify(e.details, null, 2).slice(0, 4000));
  process.exit(code);
});
