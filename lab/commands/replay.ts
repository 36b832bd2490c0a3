// `lab replay <provision.json> [--inventory F] [--disk-mib N,N] [--keep-image] [--keep]`:
// a field case in a VM. The data's layout on VM disks of the data's sizes (bus and
// sector size from --inventory when given), retargeted to the VM's disk names and
// links, with the lab's tiny image on / unless --keep-image. Runs `provision run`
// then `provision verify`, keeps the VM directory (disks, serial log) and writes a
// run report; --keep leaves the VM running until Ctrl-C or `lab down`.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createCtx } from '../../agent/core/context.js';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { ensureTinyImage } from '../../agent/host/artifacts.js';
import { loadInventory } from '../../agent/inventory/load.js';
import { buildBootstrap } from '../../agent/host/ramdisk/build.js';
import { publishImage } from '../images.js';
import { holdKeptLab, KEPT_LAB_VERSION, keptNodeOfVm, planFromReport } from '../kept-lab.js';
import { parseReport } from '../orchestrator.js';
import { NodeRecord, runReportOf } from '../report/record.js';
import { writeRunReport } from '../report/render.js';
import { disksFromInventory, imageDataFor, retargetToVm } from '../scenario.js';
import { Stages } from '../stages.js';
import type { VmDiskSpec } from '../vm/qemu.js';
import { bootVmNode } from '../vm/run-in-vm.js';
import { cacheDir } from '../vm/test-kernel.js';
import { parseLabArgs } from './args.js';

export const REPLAY_USAGE = [
  'usage: tsx lab/cli.ts replay <provision.json> [--inventory FILE] [--disk-mib N,N] [--keep-image] [--keep]',
  '         a field case in a VM: its layout on VM disks, `provision run` + `verify`',
].join('\n');

const OPTIONS = { inventory: { type: 'string' }, 'disk-mib': { type: 'string' }, 'keep-image': { type: 'boolean' }, keep: { type: 'boolean' } } as const;
const out = (l: string): void => void process.stdout.write(l + '\n');

export async function replayCommand(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseLabArgs(args, OPTIONS, REPLAY_USAGE, true);
  const file = positionals[0];
  if (!file) throw new ForgeError('USAGE', `replay needs a provision.json\n${REPLAY_USAGE}`, { field: 'file' });
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
  const stages = new Stages(out, signal);
  const startedAt = new Date();
  const record = new NodeRecord('replay', file);
  const imagesDir = join(cacheDir(), 'lab', `images-${process.pid}`);
  let code = 1;
  try {
    const ctx = createCtx({ runner, signal });
    const built = values['keep-image'] ? undefined : await stages.run('OS image, tiny profile (build or cache)', 60 * 60_000, () => ensureTinyImage(ctx));
    const image = built ? publishImage(imagesDir, built) : undefined;
    out(`replay: ${disks.map((d) => `${d.bus ?? 'virtio'}/${d.logicalBlockSize ?? 512}/${d.sizeMiB}MiB`).join(' ')}`);
    await stages.run('bootstrap ramdisk (build or cache)', 60 * 60_000, () => buildBootstrap(ctx));
    await using node = await stages.run('replay: boot bootstrap', 10 * 60_000, () => bootVmNode({ disks, keepDir: true, runner, ...(image ? { imagesDir } : {}) }));
    try {
      const retargeted = retargetToVm(data, disks);
      if (image) {
        retargeted['ks_meta'].image_data = { '/': imageDataFor(image.meta, image.file, node.imagesUrl) };
        record.expectImage(image.meta);
      }
      await node.upload('/tmp/provision.json', JSON.stringify(retargeted, null, 2));
      code = 0;
      for (const argv of [['provision', 'run', '--input', '/tmp/provision.json'], ['provision', 'verify', '--input', '/tmp/provision.json']]) {
        const step = argv.slice(0, 2).join(' ');
        const r = await stages.run(`replay: ${step}`, 60 * 60_000, () => node.run(argv, { onLog: (l) => {
          record.agentLine(l);
          out(`  ${l.slice(0, 200)}`);
        } }));
        out(`${step}: exit ${r.exitCode}`);
        record.addChecks([{ name: step, ok: r.exitCode === 0, detail: `exit ${r.exitCode}` }]);
        if (argv[1] === 'run') {
          const report = parseReport(r.stdout);
          const plan = planFromReport(report);
          if (plan) record.report.plan = plan;
          record.imageWritten(report);
        }
        if (argv[1] === 'verify') out(r.stdout);
        code ||= r.exitCode;
        if (r.exitCode !== 0) {
          out(r.stdout.slice(-4000));
          break;
        }
      }
      record.finish(node.serialText());
    } catch (e) {
      record.fail(e, node.serialText());
      throw e;
    }
    out(`boot ${(node.bootMs / 1000).toFixed(1)} s; VM dir (disks, serial.log): ${node.dir}`);
    if (values.keep) {
      const unreachable = 'a replay node is on restricted user networking (no address the host can reach)';
      const plan = record.report.plan;
      await holdKeptLab({
        version: KEPT_LAB_VERSION, pid: process.pid, kind: 'replay', startedAt: new Date().toISOString(), labDir: node.dir,
        nodes: [keptNodeOfVm('replay', node.vm, { unreachable, ...(plan ? { plan } : {}) })],
      }, signal, out);
    }
    return code;
  } catch (e) {
    if (!record.report.error) record.fail(e);
    throw e;
  } finally {
    rmSync(imagesDir, { recursive: true, force: true });
    const rerun = `npx tsx lab/cli.ts replay ${file}${values.inventory ? ` --inventory ${values.inventory}` : ''}${values['disk-mib'] ? ` --disk-mib ${values['disk-mib']}` : ''}`;
    out(`report: ${writeRunReport(runReportOf({ kind: 'replay', title: `lab replay: ${file}`, rerun, startedAt, stages: stages.records, nodes: [record] })).html}`);
  }
}
