import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { LongestFirst } from './ci/test-order.js';

// Three tiers. One `vitest run` runs them all in order: unit, then system, then
// vm (`npm run test:only`). `npm test` and CI run each tier as its own vitest,
// the system and vm tiers side by side (ci/run-tests.ts says why). `npm run
// test:unit` is the quick loop.
//
//   unit   — no root, no loop devices, QEMU, docker or image builds; real
//            unprivileged tools are fine (python3 + cloud-init, findmnt,
//            local HTTP servers). Seconds; files run in parallel.
//   system — root: loop devices, sgdisk/mkfs/LVM, mounts, the tiny OS image
//            build (debootstrap). One file at a time: they share global kernel
//            state (loop devices, LVM, MD, mounts), and a leak check in one
//            file must not see another's devices.
//   vm     — QEMU guests (bootstrap ramdisk, lab e2e, the master network with
//            docker, *.vm.test.ts). Two files at a time, longest first
//            (ci/test-order.ts): a TCG guest keeps one core busy, each file has
//            its own lab (own bridge, subnet, VMs), and timeouts allow for a
//            loaded machine.
//
// A test file belongs to unit unless it is listed below. Add a file that needs
// root to SYSTEM and one that boots QEMU to VM (or name it *.vm.test.ts).
const ALL = ['agent/**/*.test.ts', 'lab/**/*.test.ts', 'properties/**/*.test.ts'];

const SYSTEM = [
  'agent/host/image/image-content.test.ts', // builds the tiny OS image (debootstrap, root)
  'agent/commands/partition.test.ts', // provision partition/verify on a loop device
  'agent/configdrive/write.test.ts', // configdrive onto a loop device
  'agent/image/write-images.test.ts', // images onto loop devices, qemu-img
  'agent/partition/execute.test.ts', // sgdisk/mkfs/LVM on loop devices
  'agent/partition/fuel-agent-keep.test.ts', // keep_data on loop devices
  'agent/partition/scenarios.test.ts', // scenarios on a loop device
  'agent/partition/storage-roles.test.ts', // Swift/Ceph layouts on loop devices
  'agent/run/hostile-input.test.ts', // plan/run refusals checked against two loop devices
  'agent/run/cancel.test.ts', // the provision CLI sent SIGTERM mid-image on a loop device, then re-run
  'agent/run/provision-loop.test.ts', // whole provision run on a loop device with the tiny OS image
  'agent/testing/loop-disks.test.ts', // the loop-device helper itself
  'lab/report/browser.test.ts', // a run report opened in headless Chromium (Debian's chromium, from ci/setup)
  'properties/partition.property.test.ts', // generated layouts on loop devices
];

const VM = [
  '**/*.vm.test.ts', // agent/partition/{fuel-agent-keep,lvm-md}.vm.test.ts
  'agent/host/ramdisk/ramdisk-boot.test.ts', // boots the bootstrap ramdisk in QEMU
  'lab/e2e.test.ts', // the lab end to end (QEMU, master network)
  'lab/e2e-ceph.test.ts', // a Ceph OSD node end to end with master faults (its own lab)
  'lab/matrix.test.ts', // every scenario end to end (FORGE_LAB_MATRIX=full)
  'lab/master/master-net.test.ts', // docker master network, two QEMU guests PXE-booting
  'lab/master/deploy-services.test.ts', // RabbitMQ, mco and rsyncd containers on a master network
  'lab/vm/qemu.test.ts', // qemuArgv units plus a real PXE guest
  'lab/vm/run-in-vm.test.ts', // the task exchange with a booted ramdisk
  'properties/lab-provision.property.test.ts', // generated layouts in a VM
];

// A listed file that no longer exists (renamed, moved) would silently drop its
// replacement into the unit tier: refuse to start instead.
const root = fileURLToPath(new URL('.', import.meta.url));
const stale = [...SYSTEM, ...VM].filter((p) => !p.includes('*') && !existsSync(root + p));
if (stale.length) throw new Error(`vitest.config.ts: SYSTEM/VM list files that do not exist (moved? update the lists): ${stale.join(', ')}`);

// And a file left to the unit tier that sets up loop devices, builds images or
// boots VMs would make the quick loop slow and root-only: refuse that too.
const NEEDS_ROOT = /\b(createLoopDisks?|ensureTinyImage|ensureBootstrap|startVm|bootVmNode|runInVm|startLab|startMasterNetwork)\b|qemu-system|losetup/;
const listed = (file: string): boolean =>
  [...SYSTEM, ...VM].some((p) => (p.startsWith('**/*') ? file.endsWith(p.slice(4)) : file === p));
const testFiles = (dir: string): string[] =>
  readdirSync(root + dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'node_modules' ? [] : testFiles(`${dir}/${e.name}`)) : e.name.endsWith('.test.ts') ? [`${dir}/${e.name}`] : [],
  );
const misfiled = ['agent', 'lab', 'properties']
  .flatMap(testFiles)
  .filter((f) => !listed(f))
  .map((f) => [f, NEEDS_ROOT.exec(readFileSync(root + f, 'utf8'))?.[0]] as const)
  .filter(([, m]) => m);
if (misfiled.length) {
  throw new Error(`vitest.config.ts: these would run in the unit tier but need root, images or QEMU — add them to SYSTEM or VM: ${misfiled.map(([f, m]) => `${f} (${m})`).join(', ')}`);
}

export default defineConfig({
  test: {
    // No root `include`: `extends: true` concatenates arrays, so each project
    // names its own files.
    restoreMocks: true,
    testTimeout: 60_000,
    hookTimeout: 600_000,
    reporters: ['default', 'junit'],
    sequence: { sequencer: LongestFirst },
    outputFile: { junit: 'reports/junit.xml' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ALL,
          exclude: [...configDefaults.exclude, ...SYSTEM, ...VM],
          // Independent files (temp dirs, servers on port 0): both cores.
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'system', include: SYSTEM, exclude: [...configDefaults.exclude, ...VM], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        // globalSetup: the slow images and the ramdisk start building (cold machine) as the run starts, beside the unit
        // and system tiers, instead of at the start of this tier with both lanes waiting (ci/prebuild.ts).
        // One vCPU per lab node here (lab/vm/vcpus.ts): two files' guests share the two cores.
        test: { name: 'vm', include: VM, maxWorkers: 2, sequence: { groupOrder: 2 }, globalSetup: ['ci/prebuild-setup.ts'], env: { FORGE_LAB_VCPUS: process.env['FORGE_LAB_VCPUS'] ?? '1' } },
      },
    ],
  },
});
