// The lab's only builder of qemu-img argv (host side: node disks and their inspection).
import type { Runner } from '../../agent/core/runner.js';

export async function createQcow2(runner: Runner, file: string, sizeMiB: number): Promise<void> {
  await runner.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-o', 'lazy_refcounts=on', file, `${sizeMiB}M`], {
    timeoutMs: 30_000,
  });
}

/** Converts a (possibly still open, `-U`) qcow2 to a sparse raw file for host-side inspection. */
export async function qcow2ToRaw(runner: Runner, qcow2: string, raw: string): Promise<void> {
  await runner.run(['qemu-img', 'convert', '-U', '-f', 'qcow2', '-O', 'raw', '-S', '4k', qcow2, raw], {
    timeoutMs: 10 * 60_000,
  });
}

export async function imageInfo(runner: Runner, file: string): Promise<{ virtualSize: number; actualSize: number }> {
  const r = await runner.run(['qemu-img', 'info', '-U', '--output=json', file], { readOnly: true, timeoutMs: 30_000 });
  const j = JSON.parse(r.stdout) as { 'virtual-size': number; 'actual-size': number };
  return { virtualSize: j['virtual-size'], actualSize: j['actual-size'] };
}

/** True when any extent of the image holds written, non-zero data (`qemu-img map`, safe while the VM runs). */
export async function diskHasData(runner: Runner, file: string): Promise<boolean> {
  const r = await runner.run(['qemu-img', 'map', '-U', '--output=json', file], { readOnly: true, timeoutMs: 60_000 });
  const extents = JSON.parse(r.stdout) as { data: boolean; zero: boolean }[];
  return extents.some((e) => e.data && !e.zero);
}
