// npm run bench:provision — the same node layout (two disks, RAID /boot, LVM root;
// the fuel-sample's shape at VM size) provisioned once with each method in one lab:
// image (the agent from the bootstrap) and classic (debian-installer with the
// preseed Cobbler renders). Caches are warmed first (bootstrap ramdisk and OS image
// builds, the installer files and the master's Debian archive, whose installer
// components are checked), then each method runs on its own node and the table
// shows where the time went and `ratio classic/image` of the times to a node
// ready for deployment. A method that cannot run here prints why instead.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCtx } from '../../agent/core/context.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { abortOnSignals } from '../../agent/core/signals.js';
import { ensureBootstrap, ensureDeployImage } from '../../agent/host/artifacts.js';
import { publishImage } from '../images.js';
import { orchestratorEnv, startLab } from '../lab.js';
import { DEFAULT_PROFILES } from '../mocks/provision-rpc.js';
import { runScenarioOnNode, type LabMethod } from '../scenario-run.js';
import { labScenario } from '../scenario.js';
import { Stages } from '../stages.js';
import { labMac } from '../vm/qemu.js';
import { cacheDir } from '../vm/test-kernel.js';
import { methodTable, methodTimes, ratioLine, type MethodTimes } from './method-table.js';

const out = (l: string): void => void process.stdout.write(l + '\n');

async function main(): Promise<number> {
  using scope = abortOnSignals();
  const runner = new ExecaRunner();
  const stages = new Stages(out, scope.signal);
  const ctx = createCtx({ runner, signal: scope.signal });
  const boot = await stages.run('warm: bootstrap ramdisk', 60 * 60_000, () => ensureBootstrap(ctx));
  const built = await stages.run('warm: OS image (deploy profile)', 60 * 60_000, () => ensureDeployImage(ctx));
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  mkdirSync(imagesDir, { recursive: true });
  const image = publishImage(imagesDir, built);
  const rows: (MethodTimes | { method: string; error: string })[] = [];
  const times: Partial<Record<LabMethod, MethodTimes | string>> = {};
  try {
    await using lab = await stages.run('lab: master + mocks', 15 * 60_000, () =>
      startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir }));
    const env = orchestratorEnv(lab, stages, () => undefined);
    // The classic method's caches: installer files in Cobbler, the archive filled and checked.
    const classicReady = await stages.run('warm: installer files + Debian archive', 30 * 60_000, () => lab.prepareClassic()).then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
    const plan: [LabMethod, number][] = [['image', 1], ['classic', 2]];
    for (const [method, i] of plan) {
      const node = `node-${i}`;
      if (method === 'classic' && classicReady) {
        times.classic = `refused before the install: ${classicReady.split('\n')[0] ?? ''}`;
        rows.push({ method, error: times.classic });
        continue;
      }
      try {
        const r = await runScenarioOnNode({
          lab, env, runner, image, method, scenario: labScenario('two-disks-raid-lvm'),
          node: { name: node, hostname: `${node}.domain.tld`, macs: [labMac(20 + i)], profile: DEFAULT_PROFILES.bootstrap, role: 'compute' },
        });
        const t = methodTimes(method, node, stages.records);
        const failed = r.checks.filter((c) => !c.ok);
        t.ok &&= failed.length === 0;
        if (failed.length) out(`${method}: failed checks: ${failed.map((c) => c.name).join(', ')}`);
        times[method] = t;
        rows.push(t);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        times[method] = `${method} failed: ${msg.split('\n')[0] ?? ''}`;
        rows.push({ method, error: times[method] as string });
      }
    }
  } finally {
    rmSync(imagesDir, { recursive: true, force: true });
  }
  out('\n== stage timings ==');
  out(stages.table());
  out('\n== provisioning methods, two-disks-raid-lvm (seconds to a node ready for deployment) ==');
  out(methodTable(rows));
  out(ratioLine(times.classic ?? 'classic not run', times.image ?? 'image not run'));
  return rows.every((r) => !('error' in r) && r.ok) ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
