// Picks the QEMU accelerator once per process: TCG unless a 10 s probe shows a KVM
// guest really runs (on these machines /dev/kvm exists but KVM does not work).
// FORGE_LAB_ACCEL=tcg|kvm overrides the probe; the verdict is cached per host kernel.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import type { Runner } from '../../agent/core/runner.js';
import { startVm } from './qemu.js';
import { cacheDir, testKernel, tinyInitrd, TINY_INIT_MARKER } from './test-kernel.js';

let chosen: Promise<'tcg' | 'kvm'> | undefined;

export function chooseAccel(runner: Runner, env: NodeJS.ProcessEnv = process.env): Promise<'tcg' | 'kvm'> {
  const forced = env['FORGE_LAB_ACCEL'];
  if (forced === 'tcg' || forced === 'kvm') return Promise.resolve(forced);
  // The verdict is cached per host kernel, so only the first lab run pays the probe.
  const memo = join(cacheDir(env), 'lab', `accel-${release()}`);
  chosen ??= (async () => {
    if (existsSync(memo)) {
      const v = readFileSync(memo, 'utf8').trim();
      if (v === 'tcg' || v === 'kvm') return v;
    }
    const v = await probeKvm(runner, env);
    mkdirSync(join(cacheDir(env), 'lab'), { recursive: true });
    writeFileSync(memo, v + '\n');
    return v;
  })();
  return chosen;
}

async function probeKvm(runner: Runner, env: NodeJS.ProcessEnv): Promise<'tcg' | 'kvm'> {
  if (!existsSync('/dev/kvm')) return 'tcg';
  try {
    const kernel = await testKernel(runner, env);
    const initrd = await tinyInitrd(runner, env);
    await using vm = await startVm(
      { name: 'kvm-probe', memMiB: 256, accel: 'kvm', disks: [], nics: [], boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0 quiet' } },
      { runner },
    );
    await vm.waitForSerial(new RegExp(TINY_INIT_MARKER), 10_000);
    return 'kvm';
  } catch {
    return 'tcg';
  }
}
