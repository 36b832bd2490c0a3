// A small boot disk whose only partition is an EFI System Partition holding the
// given files, made entirely on the host without mounting anything (the host
// kernel has no vfat): sgdisk lays out the GPT, mkfs.fat formats the partition in
// place (--offset) and mtools copies the files in. The firmware tests boot it.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createCtx } from '../../agent/core/context.js';
import { silentLogger } from '../../agent/core/log.js';
import type { Runner } from '../../agent/core/runner.js';
import { mcopy } from '../../agent/tools/mtools.js';

const SECTOR = 512;
/** The ESP starts at 1 MiB, like every partition the agent makes. */
const ESP_START_SECTOR = 2048;

export interface EspFile {
  /** Path on the ESP, e.g. EFI/BOOT/BOOTX64.EFI. */
  path: string;
  /** Host file to copy there. */
  from: string;
}

/**
 * Writes `<dir>/<name>.qcow2`: a GPT disk of `sizeMiB` with one ESP (type EF00)
 * holding `files`. Returns the qcow2's path.
 */
export async function makeEspDisk(runner: Runner, dir: string, name: string, files: readonly EspFile[], sizeMiB = 64): Promise<string> {
  const raw = join(dir, `${name}.raw`);
  const qcow2 = join(dir, `${name}.qcow2`);
  await runner.run(['truncate', '-s', `${sizeMiB}M`, raw]);
  await runner.run(['sgdisk', '-n', `1:${ESP_START_SECTOR}:0`, '-t', '1:EF00', '-c', '1:EFI System', raw]);
  // The partition runs to the backup GPT (33 sectors before the end).
  const espSectors = (sizeMiB << 20) / SECTOR - ESP_START_SECTOR - 34;
  await runner.run(['mkfs.fat', '-n', 'ESP', `--offset=${ESP_START_SECTOR}`, raw, String(Math.floor(espSectors / 2))]);
  // The ESP's tree laid out on the host, then copied in whole (mcopy -s makes the directories).
  const tree = join(dir, `${name}.tree`);
  for (const f of files) {
    mkdirSync(dirname(join(tree, f.path)), { recursive: true });
    copyFileSync(f.from, join(tree, f.path));
  }
  const tops = [...new Set(files.map((f) => f.path.split('/')[0] as string))];
  await mcopy(createCtx({ runner, log: silentLogger }), `${raw}@@${ESP_START_SECTOR * SECTOR}`, tops.map((t) => join(tree, t)));
  await runner.run(['qemu-img', 'convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, qcow2], { timeoutMs: 60_000 });
  rmSync(raw, { force: true });
  rmSync(tree, { recursive: true, force: true });
  return qcow2;
}
