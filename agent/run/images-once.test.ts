// The run resolves each image's checksums once, in the plan step, and the image
// step writes from that: the metadata beside the image is fetched once per run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import { serveDir, type FileServer } from '../image/file-server.js';
import { writeImages } from '../image/write-images.js';
import { PLAN_VERSION, type Plan } from '../plan/types.js';
import { parseProvisionData } from '../schema/load.js';
import { defaultSteps } from './default-steps.js';
import { provisionRun, RunFailed, type Steps } from './provision-run.js';

const MD5 = 'c'.repeat(32);
let dir: string;
let srv: FileServer;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-images-once-'));
  writeFileSync(join(dir, 'root.img.gz'), 'not read: the target is refused first');
  writeFileSync(join(dir, 'root.img.gz.meta.json'), JSON.stringify({ container: 'gzip', format: 'ext4', raw_md5: MD5, raw_size: 1 << 20 }));
  srv = await serveDir(dir);
});
afterAll(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

const plan = (): Plan => ({
  version: PLAN_VERSION, parteds: [], mds: [], pvs: [], vgs: [], lvs: [], fss: [],
  // No such device: the image step stops at its target check, after it would have fetched metadata.
  images: [{ uri: `${srv.url}/root.img.gz`, mount: '/', targetDevice: '/dev/forge-images-once-absent', format: 'ext4', container: 'gzip' }],
  bootloader: { disks: [], bootDevice: '', rootDevice: '', kernelParams: '' },
});
const metaFetches = (): number => srv.requests.filter((r) => r.path.endsWith('.meta.json') || r.path.endsWith('.yaml')).length;

describe('image metadata', () => {
  it('is fetched once per run: by the plan step, not again by the image step', async () => {
    srv.requests.length = 0;
    const steps: Steps = {
      ...defaultSteps,
      loadData: async () => parseProvisionData({ hostname: 'n', ks_meta: { pm_data: { ks_spaces: [] } } }),
      checkData: async () => undefined,
      inventory: async () => ({ version: 1, disks: [] }),
      buildPlan: () => plan(),
      partition: async () => ({}),
    };
    const ctx = createCtx({ runner: new RecordingRunner(), log: silentLogger });
    const err = await provisionRun(ctx, { input: 'x.json' }, steps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailed);
    const report = (err as RunFailed).report;
    expect([report.stoppedAt, report.error?.code]).toEqual(['images', 'DEVICE_NOT_READY']);
    expect(report.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['validate:ok', 'plan:ok', 'partition:ok', 'images:failed']);
    expect(metaFetches()).toBe(1);
    expect(srv.requests.map((r) => r.path)).toEqual(['/root.img.gz.meta.json']);
  });

  it('is fetched by writeImages itself when nothing resolved it before (provision image)', async () => {
    srv.requests.length = 0;
    const ctx = createCtx({ runner: new RecordingRunner(), log: silentLogger });
    await expect(writeImages(ctx, plan())).rejects.toMatchObject({ code: 'DEVICE_NOT_READY' });
    expect(metaFetches()).toBe(1);
  });
});
