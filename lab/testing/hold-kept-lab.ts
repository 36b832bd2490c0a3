// Test helper run as a child process: a small kept lab — a master network, one
// tap, one VM on it (test kernel, echo initramfs), an ssh key, a plan — published with a state file
// as `lab demo --keep` does. Prints its facts as one JSON line, then holds until
// SIGINT/SIGTERM and disposes (exit 0), or is SIGKILLed by a test to leave
// leftovers the way a crashed lab would.
//   tsx lab/testing/hold-kept-lab.ts STATE_DIR WORK_DIR
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';
import { silentLogger } from '../../agent/core/log.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { abortOnSignals } from '../../agent/core/signals.js';
import { buildPlan } from '../../agent/plan/build.js';
import { loadScenario } from '../../agent/plan/fixtures.js';
import { createLabKey } from '../deploy/ssh.js';
import { holdKeptLab, keptLabFile, keptNodeOfVm, KEPT_LAB_VERSION } from '../kept-lab.js';
import { startMasterNetwork } from '../master/master-net.js';
import { labMac, startVm } from '../vm/qemu.js';
import { testKernel, TINY_INIT_MARKER } from '../vm/test-kernel.js';
import { echoInitrd } from './echo-initrd.js';

const HELD_NODE = 'held';

const [stateDir, work] = process.argv.slice(2);
if (!stateDir || !work) throw new ForgeError('USAGE', 'usage: hold-kept-lab.ts STATE_DIR WORK_DIR');
using scope = abortOnSignals();
const runner = new ExecaRunner();
const tftpRoot = join(work, 'tftp');
const imagesDir = join(work, 'images');
for (const d of [tftpRoot, imagesDir]) mkdirSync(d, { recursive: true });
const [kernel, initrd] = [await testKernel(runner), await echoInitrd(runner)];
await using master = await startMasterNetwork({ runner, tftpRoot, imagesDir, log: silentLogger });
const tap = await master.addTap();
await using vm = await startVm({
  name: HELD_NODE, memMiB: 256, disks: [{ sizeMiB: 16 }],
  nics: [{ mac: labMac(250), netdev: { kind: 'tap', ifname: tap } }],
  boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0,115200 quiet' },
}, { runner });
await vm.waitForSerial(new RegExp(TINY_INIT_MARKER), 120_000);
// No sshd in the test guest: its address is the host's own on the bridge, where nothing
// listens on 22 either — `lab ssh` then gets as far as ssh's "connection refused".
const single = await loadScenario('single-disk');
const key = await createLabKey(runner, mkdtempSync(join(work, 'key-')));
const state = {
  version: KEPT_LAB_VERSION, pid: process.pid, kind: 'test' as const, startedAt: new Date().toISOString(),
  master: { network: master.name, bridge: master.bridge, subnet: master.subnet },
  sshKey: key,
  // A plan the blank disk does not hold: `lab disks` then reports its checks failing.
  nodes: [keptNodeOfVm(HELD_NODE, vm, { ip: master.gatewayIp, plan: buildPlan(single.data, single.inventory) })],
};
const held = holdKeptLab(state, scope.signal, () => undefined, stateDir);
process.stdout.write(JSON.stringify({
  pid: process.pid, network: master.name, bridge: master.bridge, tap, vmDir: vm.files.dir, qemuPid: vm.pid, stateFile: keptLabFile(process.pid, stateDir),
}) + '\n');
await held;
