// The lab's commands:
//   demo                                   provision one VM end to end (npm run lab)
//   replay <provision.json> [--inventory F] [--disk-mib N,N]   run `provision` on a field case in a VM
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCtx } from '../agent/core/context.js';
import { ForgeError, isForgeError } from '../agent/core/errors.js';
import { createLogger, fileSink } from '../agent/core/log.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { buildImage } from '../agent/build-image/build-image.js';
import { buildBootstrap } from '../agent/bootstrap/build.js';
import { startLab } from './lab.js';
import { provisionNode } from './orchestrator.js';
import { configdriveTemplateUploads, provisionData, singleDisk } from './scenario.js';
import { Stages } from './stages.js';
import { bootstrapFiles } from './vm/bootstrap-files.js';
import { labMac } from './vm/qemu.js';
import { runInVm } from './vm/run-in-vm.js';
import { firstBootChecks, type Check } from './verify/first-boot.js';
import { hostDiskChecks } from './verify/host-disk.js';
import { cacheDir } from './vm/test-kernel.js';
import { rawMd5 } from './image-ref.js';

const out = (l: string): void => {
  process.stdout.write(l + '\n');
};

async function demo(): Promise<number> {
  const runner = new ExecaRunner();
  const ctx = createCtx({ runner, log: createLogger([fileSink(join(cacheDir(), 'lab', 'build.log'))]) });
  const stages = new Stages(out);
  const boot = bootstrapFiles() ?? (await stages.run('build bootstrap ramdisk', 60 * 60_000, async () => {
    const b = await buildBootstrap(ctx);
    return { dir: b.dir, kernel: b.vmlinuz, initrd: b.initrd };
  }));
  const image = await stages.run('build/cached OS image (tiny)', 60 * 60_000, () => buildImage(ctx, { profile: 'tiny' }));
  const md5 = await stages.run('raw image md5 (cached)', 10 * 60_000, () => rawMd5(image.path));
  await using lab = await startLab({ runner, bootstrap: boot, imagesDir: dirname(image.path) });
  const mac = labMac(1);
  const hostname = 'node-1.domain.tld';
  lab.addNode({ name: 'node-1', macs: [mac], disks: singleDisk.disks });
  const checks: Check[] = [];
  try {
    const r = await provisionNode({ nailgun: lab.nailgun, cobbler: lab.client, stages, log: out }, {
      name: 'node-1',
      hostname,
      macs: [mac],
      profile: 'bootstrap',
      extraUploads: configdriveTemplateUploads(),
      // FORGE_LAB_CONFIGDRIVE=iso9660 selects the ISO configdrive (needs xorriso in the ramdisk).
      runArgs: process.env['FORGE_LAB_CONFIGDRIVE'] === 'iso9660' ? ['--configdrive-format', 'iso9660'] : [],
      provisionData: (id) => provisionData({
        uid: String(id), hostname, macs: [mac], masterUrl: lab.masterUrl, scenario: singleDisk,
        image: {
          uri: `${lab.masterUrl}/targetimages/${basename(image.path)}`, format: image.meta.format, container: image.meta.container,
          md5,
        },
      }),
    });
    const rep = JSON.stringify(r.report ?? {});
    checks.push({ name: 'image checksum = published', ok: rep.includes(md5), detail: `raw md5 ${md5}` });
    checks.push({ name: 'provision verify on node', ok: r.verify?.exitCode === 0, detail: `exit ${r.verify?.exitCode}` });
    checks.push(...firstBootChecks(r.firstBoot, { hostname }));
    const vm = lab.vms.get('node-1');
    if (vm) {
      await stages.run('node-1: power off', 120_000, async () => {
        await vm.powerdown();
        await vm.waitForPowerOff(110_000);
        await vm.stop();
      });
      const host = await stages.run('node-1: host-side disk check', 300_000, () => hostDiskChecks(runner, vm.files.disks[0] as string, lab.dir));
      checks.push(...host.checks);
    }
  } finally {
    out('\n== stage timings ==');
    out(stages.table());
    out(`total ${(stages.records.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)} s`);
    if (checks.length) {
      out('\n== verification ==');
      for (const c of checks) out(`${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(34)} ${c.detail}`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
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
      return demo();
    case 'replay':
      return replay(rest);
    default:
      out('usage: tsx lab/cli.ts demo | replay <provision.json> [--inventory FILE]');
      return 2;
  }
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`lab: ${isForgeError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.stack : String(e)}\n`);
  if (isForgeError(e) && Object.keys(e.details).length) process.stderr.write(JSON.stringify(e.details, null, 2).slice(0, 4000) + '\n');
  process.exit(1);
});
