// The method branch on real mock Nailgun + mock Cobbler (in process, no VM): the
// cluster attribute picks image_provision or native_provision with the same
// provisioning info, and each branch's XML-RPC/REST exchange is what Astute's was.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labMac } from './vm/qemu.js';
import { startCobbler, CobblerClient, type CobblerSystem, type PowerAction, type StartedCobbler } from './mocks/cobbler.js';
import { startNailgun, type StartedNailgun } from './mocks/nailgun.js';
import { DEFAULT_PROFILES, type ProvisionRpc } from './mocks/provision-rpc.js';
import { nativeProvision } from './native-provision.js';
import { checkProvisionRpc, dispatchProvision, requestProvision } from './provision-dispatch.js';
import type { OrchestratedNode, OrchestratorEnv } from './orchestrator.js';
import { labScenario, nodeData } from './scenario.js';
import { Stages } from './stages.js';

const dirs: string[] = [];
const tmp = (p: string): string => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MAC = labMac(7);
const n: OrchestratedNode = { name: 'node-7', hostname: 'node-7.domain.tld', macs: [MAC], profile: DEFAULT_PROFILES.bootstrap };

interface Rig {
  ng: StartedNailgun;
  cob: StartedCobbler;
  env: OrchestratorEnv;
  powered: [string, PowerAction][];
  nodeId: number;
  tftp: string;
}

/** Both mocks, one discovered node with the lab's data, and a power hook that can play the installer. */
async function rig(installer?: (sys: CobblerSystem, cob: StartedCobbler) => Promise<void>, template?: () => string): Promise<Rig & AsyncDisposable> {
  const boot = tmp('forge-disp-boot-');
  writeFileSync(join(boot, 'vmlinuz'), 'K');
  writeFileSync(join(boot, 'initrd.img'), 'I');
  const di = tmp('forge-disp-di-');
  writeFileSync(join(di, 'linux'), 'DI-K');
  writeFileSync(join(di, 'initrd.gz'), 'DI-I');
  const tftp = tmp('forge-disp-tftp-');
  const ng = await startNailgun();
  const powered: [string, PowerAction][] = [];
  let cobRef: StartedCobbler | undefined;
  const cob = await startCobbler({
    tftpRoot: tftp,
    guestBaseUrl: (p) => `http://10.97.3.1:${p}`,
    profiles: {
      [DEFAULT_PROFILES.bootstrap]: { dir: boot, append: 'forge.master=x' },
      [DEFAULT_PROFILES.os]: {
        dir: di, kernel: 'linux', initrd: 'initrd.gz', distro: 'debian12-installer', append: 'console=ttyS0',
        // A stand-in template: renders from the system's ks_meta like the lab's preseed renderer does.
        kickstart: (sys, urls) => ({
          text: template ? template() : `d-i netcfg/get_hostname string ${sys.hostname}\n# disks ${((sys.ksMeta['pm_data'] as { ks_spaces: unknown[] }).ks_spaces).length}\n# nopxe ${urls.nopxe}\n`,
          files: { 'nocloud/user-data': '#cloud-config\n' },
        }),
      },
    },
    power: async (sys, action) => {
      powered.push([sys.name, action]);
      if (installer && action === 'reboot') setTimeout(() => void installer(sys, cobRef as StartedCobbler), 10);
      return true;
    },
  });
  cobRef = cob;
  const { id } = (await (await fetch(`${ng.url}/api/nodes/agent`, { method: 'POST', body: JSON.stringify({ macs: [MAC], inventory: { disks: [] }, agentVersion: 't', cmdline: '' }) })).json()) as { id: number };
  const s = labScenario('two-disks-raid-lvm');
  const data = nodeData(s, { uid: String(id), hostname: n.hostname, macs: n.macs, masterUrl: ng.url, nameServer: '10.97.3.2' }, { uri: 'http://10.97.3.3/targetimages/x.img.gz', format: 'ext4', container: 'gzip' });
  ng.setProvisionData(id, data);
  const env: OrchestratorEnv = { nailgun: ng, cobbler: new CobblerClient(cob.url), stages: new Stages(), log: () => undefined, timeouts: { install: 10_000, firstBoot: 10_000 } };
  const dispose = async (): Promise<void> => {
    await cob.close();
    await ng.close();
  };
  return { ng, cob, env, powered, nodeId: id, tftp, [Symbol.asyncDispose]: dispose };
}

/** The message without what differs by design between the methods. */
const comparable = (m: ProvisionRpc): unknown => {
  const info = structuredClone(m.args.provisioning_info);
  for (const node of info.nodes) {
    delete (node as Record<string, unknown>)['profile'];
    delete node.ks_meta.image_data;
  }
  return { engine: info.engine, nodes: info.nodes };
};

describe('provisioning method: one cluster attribute, two RPC methods, same provisioning info', () => {
  it('sends image_provision by default and native_provision once the cluster says cobbler', async () => {
    await using r = await rig();
    const attrs = async (): Promise<unknown> => (await (await fetch(`${r.ng.url}/api/clusters/1/attributes`)).json() as { editable: { provision: { method: { value: string } } } }).editable.provision.method.value;
    expect(await attrs()).toBe('image');
    await requestProvision(r.ng, [r.nodeId]);
    const image = await r.ng.takeRpc(1000);
    expect(image).toMatchObject({ method: 'image_provision', respond_to: 'provision_resp', args: { provisioning_info: { pre_provision: [{ type: 'build_image' }] } } });
    expect(image.args.provisioning_info.nodes[0]).toMatchObject({ uid: String(r.nodeId), profile: 'bootstrap-2', netboot_enabled: '1' });
    expect(image.args.provisioning_info.nodes[0]?.ks_meta.image_data).toBeDefined();

    const bad = await fetch(`${r.ng.url}/api/clusters/1/attributes`, { method: 'PUT', body: JSON.stringify({ editable: { provision: { method: { value: 'kickstart' } } } }) });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('editable.provision.method.value');
    await fetch(`${r.ng.url}/api/clusters/1/attributes`, { method: 'PUT', body: JSON.stringify({ editable: { provision: { method: { value: 'cobbler' } } } }) });
    expect(await attrs()).toBe('cobbler');
    await requestProvision(r.ng, [r.nodeId]);
    const native = await r.ng.takeRpc(1000);
    expect(native.method).toBe('native_provision');
    expect(native.args.provisioning_info.nodes[0]).toMatchObject({ profile: 'debian12-x86_64' });
    expect(native.args.provisioning_info.nodes[0]?.ks_meta.image_data).toBeUndefined();
    expect(native.args.provisioning_info.pre_provision).toEqual([{ type: 'installer_files', uids: [String(r.nodeId)], parameters: { profile: 'debian12-x86_64', files: ['linux', 'initrd.gz'] } }]);
    expect(comparable(native)).toEqual(comparable(image));
    // The REST exchange as recorded: what a replay of Fuel's UI would send.
    expect(r.ng.requests.filter((q) => q.path.startsWith('/api/clusters'))).toEqual([
      { method: 'GET', path: '/api/clusters/1/attributes' },
      { method: 'PUT', path: `/api/clusters/1/provision/?nodes=${r.nodeId}` },
      { method: 'PUT', path: '/api/clusters/1/attributes' },
      { method: 'PUT', path: '/api/clusters/1/attributes' },
      { method: 'GET', path: '/api/clusters/1/attributes' },
      { method: 'PUT', path: `/api/clusters/1/provision/?nodes=${r.nodeId}` },
    ]);
    // The orchestrator branches on the method, and only there.
    const taken: string[] = [];
    const branches = { image: async () => taken.push('image'), native: async () => taken.push('native') };
    await dispatchProvision(image, branches);
    await dispatchProvision(native, branches);
    expect(taken).toEqual(['image', 'native']);
    expect(() => checkProvisionRpc({ ...image, method: 'native_provision' })).toThrow(/carries image_data/);
    const noImage = structuredClone(image);
    delete noImage.args.provisioning_info.nodes[0]?.ks_meta.image_data;
    expect(() => checkProvisionRpc(noImage)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'args.provisioning_info.nodes[0].ks_meta.image_data' }));
  });

  it('classic: Cobbler gets the OS profile and ks_meta, the installer reads the rendered preseed, nopxe turns netboot off, the call-back ends it', async () => {
    const seen: { pxe?: string; ks?: string; file?: string } = {};
    // Plays debian-installer: PXE entry → preseed → template file → nopxe → reboot → cloud-init's call-back.
    const installer = async (sys: CobblerSystem, cob: StartedCobbler): Promise<void> => {
      seen.pxe = readFileSync(join(r.tftp, 'ipxe', `${MAC.replaceAll(':', '-')}.ipxe`), 'utf8');
      const url = /url=(\S+)/.exec(seen.pxe)?.[1] ?? '';
      seen.ks = await (await fetch(url.replace('http://10.97.3.1:', 'http://127.0.0.1:'))).text();
      seen.file = await (await fetch(`${cob.url}/cblr/svc/op/template/system/${sys.name}/path/nocloud/user-data`)).text();
      await fetch(`${cob.url}/cblr/svc/op/nopxe/system/${sys.name}`);
      await fetch(`${r.ng.url}/api/v1/nodes/${r.nodeId}/provisioned`, { method: 'POST', body: JSON.stringify({ hostname: sys.hostname }) });
    };
    await using r = await rig(installer);
    r.ng.cluster.method = 'cobbler';
    await requestProvision(r.ng, [r.nodeId]);
    const msg = await r.ng.takeRpc(1000);
    const node = r.ng.node(r.nodeId);
    if (!node) throw new Error('no node');
    const [out] = await dispatchProvision(msg, {
      image: () => Promise.reject(new Error('image branch taken for native_provision')),
      native: (entry) => nativeProvision(r.env, n, node, entry),
    });
    expect(out?.firstBoot).toEqual({ hostname: n.hostname });
    expect(seen.pxe).toContain(`kernel http://10.97.3.1:${r.cob.port}/cblr/debian12-x86_64/linux initrd=initrd.gz console=ttyS0`);
    expect(seen.pxe).toContain(`auto=true priority=critical url=http://10.97.3.1:${r.cob.port}/cblr/svc/op/ks/system/node-7 hostname=node-7 domain=domain.tld`);
    expect(seen.pxe).toContain(`netcfg/choose_interface=${MAC}`);
    expect(seen.ks).toContain('d-i netcfg/get_hostname string node-7.domain.tld\n# disks 4');
    expect(seen.file).toBe('#cloud-config\n');
    expect(r.cob.svcRequests.map((q) => `${q.op} ${q.status}`)).toEqual(['ks 200', 'template 200', 'nopxe 200']);
    expect(readFileSync(join(r.tftp, 'ipxe', `${MAC.replaceAll(':', '-')}.ipxe`), 'utf8')).toMatch(/^exit$/m);
    // Astute's XML-RPC exchange, in order (polling of get_system collapsed).
    const methods = r.cob.calls.map((c) => c.method).filter((m, i, a) => m !== 'get_system' || a[i - 1] !== 'get_system');
    expect(methods.slice(0, 3)).toEqual(['login', 'find_system', 'new_system']);
    expect(methods.slice(-4)).toEqual(['save_system', 'sync', 'power_system', 'get_system']);
    const set = Object.fromEntries(r.cob.calls.filter((c) => c.method === 'modify_system').map((c) => [c.params[1], c.params[2]]));
    expect(set).toMatchObject({ profile: 'debian12-x86_64', netboot_enabled: true, hostname: n.hostname, uid: String(r.nodeId) });
    expect(set['ks_meta']).toMatchObject({ mco_host: expect.any(String), pm_data: { ks_spaces: expect.any(Array) } });
    expect(set['ks_meta']).not.toHaveProperty('image_data');
    expect(r.powered).toEqual([['node-7', 'reboot']]);
    expect(r.ng.node(r.nodeId)?.status).toBe('provisioned');
  });

  it('classic: a template that cannot render stops at sync — the node is not rebooted and Nailgun says error', async () => {
    await using r = await rig(undefined, () => {
      throw new Error('keep_data is not supported by the classic method');
    });
    r.ng.cluster.method = 'cobbler';
    await requestProvision(r.ng, [r.nodeId]);
    const msg = await r.ng.takeRpc(1000);
    const node = r.ng.node(r.nodeId);
    if (!node) throw new Error('no node');
    await expect(dispatchProvision(msg, { image: () => Promise.resolve(undefined), native: (e) => nativeProvision(r.env, n, node, e) }))
      .rejects.toThrow(/system node-7: kickstart template of profile debian12-x86_64 failed: keep_data is not supported/);
    expect(r.powered).toEqual([]);
    expect(r.cob.kickstart('node-7')).toBeUndefined();
    expect(r.ng.node(r.nodeId)).toMatchObject({ status: 'error', errorMessage: expect.stringContaining('kickstart template') });
  });
});
