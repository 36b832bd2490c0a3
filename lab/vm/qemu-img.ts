// The lab's only builder of qemu-img argv (host side: node disks and their inspection).
import { z } from 'zod';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import type { Runner } from '../../agent/core/runner.js';

/** `qemu-img map --output=json`: one entry per extent. */
const extents = z.array(z.looseObject({ data: z.boolean(), zero: z.boolean() }));

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

/** True when any extent of the image holds written, non-zero data (`qemu-img map`, safe while the VM runs). */
export async function diskHasData(runner: Runner, file: string): Promise<boolean> {
  const r = await runner.run(['qemu-img', 'map', '-U', '--output=json', file], { readOnly: true, timeoutMs: 60_000 });
  return parseJsonAs(extents, r.stdout, { command: r.argv }).some((e) => e.data && !e.zero);
}
