// The lab an e2e file runs on, one per file: the bootstrap ramdisk and the deploy
// image (built or cached), the image published in a directory of this process, the
// lab started on it, and the orchestrator's view of the lab.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBootstrap, ensureDeployImage } from '../../agent/host/artifacts.js';
import type { BuiltImage } from '../../agent/host/image/build-image.js';
import type { Runner } from '../../agent/core/runner.js';
import { publishImage, type PublishedImage } from '../images.js';
import { orchestratorEnv, startLab, type Lab } from '../lab.js';
import type { OrchestratorEnv } from '../orchestrator.js';
import type { Stages } from '../stages.js';

export interface E2eLab {
  lab: Lab;
  env: OrchestratorEnv;
  image: BuiltImage;
  /** The deploy image as the lab's image server offers it. */
  good: PublishedImage;
  /** Where the published images are: publish more there (closeE2eLab removes it). */
  imagesDir: string;
}

export async function openE2eLab(runner: Runner, stages: Stages): Promise<E2eLab> {
  const boot = await ensureBootstrap();
  const image = await ensureDeployImage();
  const imagesDir = join(process.env['FORGE_CACHE_DIR'] ?? '/var/cache/fuel-forge', 'lab', `images-${process.pid}`);
  mkdirSync(imagesDir, { recursive: true });
  try {
    const good = publishImage(imagesDir, image);
    const lab = await startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir });
    return { lab, env: orchestratorEnv(lab, stages, () => undefined), image, good, imagesDir };
  } catch (e) {
    rmSync(imagesDir, { recursive: true, force: true });
    throw e;
  }
}

/** Ends the lab and removes the published images (either may be missing after a failed open). */
export async function closeE2eLab(lab: Lab | undefined, imagesDir: string): Promise<void> {
  await lab?.dispose();
  if (imagesDir) rmSync(imagesDir, { recursive: true, force: true });
}
