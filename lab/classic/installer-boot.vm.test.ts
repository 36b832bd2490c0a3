// debian-installer as the oracle for the classic chain: Debian's own netboot
// installer PXE-boots from mock Cobbler's installer profile through the
// orchestrator's native_provision branch, loads the preseed Cobbler rendered
// (d-i's network-preseed and debconf parse it — not our code), and takes its
// mirror from it: the master's Debian archive, never anything outside the lab.
// Where the archive lacks installer components (the package mirror of the
// development machine serves about a third of bookworm's udebs), the installer
// must stop exactly there and the orchestrator must say so; with a complete
// archive the test stops once the installer is past the mirror step (a whole
// install belongs to the benchmark: npm run bench:provision).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import { ensureBootstrap } from '../../agent/host/artifacts.js';
import { orchestratorEnv, startLab, type Lab } from '../lab.js';
import { DEFAULT_PROFILES } from '../mocks/provision-rpc.js';
import { nativeProvision } from '../native-provision.js';
import type { OrchestratedNode } from '../orchestrator.js';
import { dispatchProvision, requestProvision } from '../provision-dispatch.js';
import { labScenario, nodeData, vmInventory } from '../scenario.js';
import { Stages } from '../stages.js';
import { labMac } from '../vm/qemu.js';
import { checkInstallerArchive } from './installer.js';
import { INSTALLER_COMPONENTS } from './preseed.js';

const runner = new ExecaRunner();
const stages = new Stages((l) => process.stdout.write(l + '\n'));
const n: OrchestratedNode = { name: 'node-31', hostname: 'node-31.domain.tld', macs: [labMac(31)], profile: DEFAULT_PROFILES.os };
let lab: Lab;
let imagesDir = '';

/** What d-i shows when a download from its mirror fails, or a component cannot load (net-retriever's and anna's templates). */
const INSTALLER_STOPPED = /Downloading a file failed|Failed to load installer component|Bad archive mirror/;

beforeAll(async () => {
  const boot = await ensureBootstrap();
  imagesDir = join(process.env['FORGE_CACHE_DIR'] ?? '/var/cache/fuel-forge', 'lab', `images-${process.pid}-di`);
  mkdirSync(imagesDir, { recursive: true });
  lab = await startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir });
}, 20 * 60_000);

afterAll(async () => {
  await lab?.dispose();
  rmSync(imagesDir, { recursive: true, force: true });
}, 5 * 60_000);

describe('classic method: debian-installer reads the preseed mock Cobbler renders', () => {
  it('PXE-boots the installer profile, loads the preseed, uses only the master’s archive, and stops where the archive check said', async () => {
    const s = labScenario('two-disks-raid-lvm');
    lab.addNode({ name: n.name, macs: n.macs, disks: s.disks });
    // Discovery as the bootstrap reports it (the installer, not the bootstrap, is under test here).
    const disc = await fetch(`${lab.nailgun.url}/api/nodes/agent`, { method: 'POST', body: JSON.stringify({ macs: n.macs, inventory: vmInventory(s.disks), agentVersion: 'lab', cmdline: '' }) });
    const { id } = (await disc.json()) as { id: number };
    const node = lab.nailgun.node(id);
    if (!node) throw new Error('node not registered');
    lab.nailgun.setProvisionData(id, nodeData(s, lab.nodeFor(String(id), n.hostname, n.macs), { uri: `${lab.imagesUrl}/unused.img.gz`, format: 'ext4', container: 'gzip' }));
    lab.nailgun.cluster.method = 'cobbler';
    await requestProvision(lab.nailgun, [id]);
    const msg = await lab.nailgun.takeRpc(10_000);
    expect(msg.method).toBe('native_provision');

    const proxy = await lab.prepareClassic({ checkArchive: false });
    const check = await checkInstallerArchive({ archiveUrl: proxy.url, suite: 'bookworm', wanted: INSTALLER_COMPONENTS });
    const env = { ...orchestratorEnv(lab, stages, () => undefined), timeouts: { install: 15 * 60_000 } };
    const serial = (): string => lab.serialTail(n.name, 200_000);
    let evidenceDone = false;
    const run = dispatchProvision(msg, {
      image: () => Promise.reject(new Error('image branch for a native_provision message')),
      native: (entry) => nativeProvision(env, n, node, entry, {
        installerFailed: () => INSTALLER_STOPPED.exec(serial())?.[0] ?? (evidenceDone ? 'stopped by the test once past the mirror step' : undefined),
      }),
    });
    const ip = async (): Promise<string | undefined> => (await lab.master.dhcpAcks()).filter((a) => a.mac === n.macs[0]).at(-1)?.ip;
    const fromNode = async (): Promise<{ ks: boolean; release: boolean }> => {
      const addr = await ip();
      const ks = lab.cobbler.svcRequests.some((q) => q.op === 'ks' && q.status === 200 && q.remote.endsWith(addr ?? '-'));
      // From the node's address: the host's own archive check fetched Packages, not Release.
      const release = (await proxy.requests()).some((q) => q.client.endsWith(addr ?? '-') && /dists\/bookworm\/(In)?Release$/.test(q.archivePath ?? q.path));
      return { ks, release };
    };
    if (check.missing.length === 0) {
      // A complete archive: stop once the installer has its preseed and its mirror.
      const t0 = Date.now();
      while (Date.now() - t0 < 15 * 60_000) {
        const e = await fromNode();
        if (e.ks && e.release) break;
        await new Promise((r) => setTimeout(r, 5000));
      }
      evidenceDone = true;
      await expect(run).rejects.toThrow(/stopped by the test/);
    } else {
      await expect(run).rejects.toThrow(INSTALLER_STOPPED);
      // The download the installer failed on is one the archive check named beforehand.
      const addr = await ip();
      const failed = (await proxy.requests()).filter((q) => q.client.endsWith(addr ?? '-') && q.kind === 'error').map((q) => q.archivePath ?? q.path);
      process.stdout.write(`installer's failed downloads: ${failed.join(', ')}\n`);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.some((p) => check.missing.some((m) => m.path === p))).toBe(true);
    }
    const e = await fromNode();
    // The installer fetched the preseed Cobbler rendered for it, from the node's own address …
    expect(e.ks).toBe(true);
    // … and debconf accepted it: the installer went on to the mirror the preseed names (the master's archive).
    expect(e.release).toBe(true);
    expect(serial()).not.toMatch(/Failed to retrieve the preconfiguration file|Failed to process the preconfiguration file/);
    // Nailgun knows: error, naming the installer's stop; netboot stays on for the next attempt.
    expect(lab.nailgun.node(id)?.status).toBe('error');
    expect((await lab.client.getSystem(n.name))?.['netboot_enabled']).toBe(true);
    const c = await lab.master.containment();
    expect({ attempts: c.attempts, leaked: c.leaked }).toEqual({ attempts: 0, leaked: 0 });
  }, 25 * 60_000);
});
