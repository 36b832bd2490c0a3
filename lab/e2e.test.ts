// End to end in one VM: PXE via mock Cobbler → discovery at mock Nailgun →
// provision → verify → netboot off → reboot → first-boot call-back, plus the
// host-side disk check. Needs the bootstrap ramdisk and the tiny OS image in the
// cache (skipped otherwise: `npm run lab` builds both). Bad path in the same lab:
// a checksum mismatch keeps the node in bootstrap with netboot enabled.
import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ExecaRunner } from '../agent/core/runner.js';
import { startLab } from './lab.js';
import { provisionNode } from './orchestrator.js';
import { configdriveTemplateUploads, provisionData, singleDisk } from './scenario.js';
import { Stages } from './stages.js';
import { bootstrapFiles } from './vm/bootstrap-files.js';
import { labMac } from './vm/qemu.js';
import { cacheDir } from './vm/test-kernel.js';
import { firstBootChecks } from './verify/first-boot.js';
import { hostDiskChecks } from './verify/host-disk.js';
import { rawMd5 } from './image-ref.js';

interface Meta { uri: string; format: string; container: string; md5: string; sha256: string }

function cachedTinyImage(): { path: string; meta: Meta } | undefined {
  const root = join(cacheDir(), 'images');
  if (!existsSync(root)) return undefined;
  for (const d of readdirSync(root)) {
    const dir = join(root, d);
    if (!existsSync(dir) || !/tiny/.test(d + readdirSync(dir).join(' '))) continue;
    const meta = readdirSync(dir).find((f) => f.endsWith('.meta.json'));
    if (meta) {
      const m = JSON.parse(readFileSync(join(dir, meta), 'utf8')) as Meta;
      return { path: join(dir, meta.replace(/\.meta\.json$/, '')), meta: m };
    }
  }
  return undefined;
}

const boot = bootstrapFiles();
const image = cachedTinyImage();

describe.skipIf(!boot || !image)('lab end to end (one VM, user networking, TCG)', () => {
  it('provisions a PXE-booted node, reboots it into the image and sees cloud-init finish from our configdrive', async () => {
    if (!boot || !image) return;
    const runner = new ExecaRunner();
    const stages = new Stages((l) => process.stdout.write(l + '\n'));
    await using lab = await startLab({ runner, bootstrap: boot, imagesDir: join(image.path, '..') });
    const mac = labMac(11);
    const hostname = 'node-11.domain.tld';
    lab.addNode({ name: 'node-11', macs: [mac], disks: singleDisk.disks });
    const imageRef = {
      uri: `${lab.masterUrl}/targetimages/${basename(image.path)}`, format: image.meta.format, container: image.meta.container,
      md5: await rawMd5(image.path),
    };
    const r = await provisionNode({ nailgun: lab.nailgun, cobbler: lab.client, stages, log: () => undefined }, {
      name: 'node-11', hostname, macs: [mac], profile: 'bootstrap', extraUploads: configdriveTemplateUploads(),
      provisionData: (id) => provisionData({ uid: String(id), hostname, macs: [mac], masterUrl: lab.masterUrl, scenario: singleDisk, image: imageRef }),
    });
    process.stdout.write(stages.table() + '\n');
    expect(r.provision.exitCode).toBe(0);
    expect(r.verify?.exitCode).toBe(0);
    expect(lab.cobbler.system('node-11')?.netbootEnabled).toBe(false);
    expect(lab.cobbler.bootRequests.some((q) => q.path === 'initrd.img')).toBe(true);
    for (const c of firstBootChecks(r.firstBoot, { hostname })) expect(c, c.detail).toMatchObject({ ok: true });
    expect(lab.nailgun.node(r.node.id)?.status).toBe('provisioned');
    const vm = lab.vms.get('node-11');
    expect(vm).toBeDefined();
    await vm?.powerdown();
    await vm?.waitForPowerOff(120_000);
    await vm?.stop();
    const host = await hostDiskChecks(runner, vm?.files.disks[0] as string, lab.dir);
    for (const c of host.checks) expect(c, c.detail).toMatchObject({ ok: true });
  }, 40 * 60_000);
});
