// The lab Cobbler's Debian template end to end in process: Astute's node entry →
// mock Cobbler's system (through real XML-RPC) → the preseed and seed files the
// installer fetches. The first-boot files must be the image method's configdrive,
// byte for byte, so one first-boot verifier serves both methods.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConfigDrive } from '../../agent/configdrive/build.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { CobblerClient, startCobbler } from '../mocks/cobbler.js';
import { DEFAULT_PROFILES, provisionMessage } from '../mocks/provision-rpc.js';
import { systemFields } from '../native-provision.js';
import { labScenario, nodeData, vmInventory, type LabScenarioName } from '../scenario.js';
import { labMac } from '../vm/qemu.js';
import { classicKickstart, CONFIG_DRIVE_SEED } from './kickstart.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function render(name: LabScenarioName): Promise<{ sync: Promise<void>; get: (p: string) => Promise<Response>; data: Record<string, any>; close: () => Promise<void> }> {
  const s = labScenario(name);
  const mac = labMac(9);
  const data = nodeData(s, { uid: '9', hostname: 'node-9.domain.tld', macs: [mac], masterUrl: 'http://10.97.3.1:8000', nameServer: '10.97.3.2' }, { uri: 'http://10.97.3.3/targetimages/x.img.gz', format: 'ext4', container: 'gzip' });
  const entry = provisionMessage({ method: 'cobbler', engine: { url: 'x', username: 'cobbler', password: 'cobbler', master_ip: '10.97.3.1' }, profiles: DEFAULT_PROFILES, nodes: [data] }).args.provisioning_info.nodes[0];
  if (!entry) throw new Error('no entry');
  const d = mkdtempSync(join(tmpdir(), 'forge-ks-'));
  dirs.push(d);
  const cob = await startCobbler({
    tftpRoot: d,
    profiles: {
      [DEFAULT_PROFILES.os]: {
        dir: d, kernel: 'linux', initrd: 'initrd.gz', append: '',
        kickstart: classicKickstart({ inventoryOf: () => vmInventory(s.disks), mirror: { host: '10.97.3.1:3142', directory: '/debian', suite: 'bookworm' }, packages: ['openssh-server', 'cloud-init'] }),
      },
    },
  });
  const c = new CobblerClient(cob.url);
  await c.login();
  await c.upsertSystem({ name: 'node-9', hostname: entry.hostname, profile: entry.profile, netbootEnabled: true, macs: { eth0: mac }, kernelOptions: entry.kernel_options, fields: systemFields(entry) });
  return { sync: c.sync(), get: (p) => fetch(`${cob.url}/cblr/svc/op/${p}`), data, close: () => cob.close() };
}

describe('classic kickstart template', () => {
  it('renders the preseed from the Cobbler system and serves the image method’s configdrive as the seed', async () => {
    const r = await render('two-disks-raid-lvm');
    try {
      await r.sync;
      const ks = await (await r.get('ks/system/node-9')).text();
      expect(ks).toMatch(/^d-i mirror\/http\/hostname string 10\.97\.3\.1:3142$/m);
      expect(ks).toMatch(/^d-i mirror\/http\/directory string \/debian$/m);
      expect(ks).toMatch(/^d-i netcfg\/get_hostname string node-9$/m);
      const drive = buildConfigDrive(parseProvisionData(r.data));
      const openstack = [...drive.files].filter(([p]) => p.startsWith('openstack/'));
      expect(openstack.length).toBeGreaterThanOrEqual(3);
      for (const [p, content] of openstack) {
        const res = await r.get(`template/system/node-9/path/config_drive/${p}`);
        expect(res.status, p).toBe(200);
        expect(await res.text(), p).toBe(content);
      }
      // The late script (carried base64 in the preseed) fetches every seed file into cloud-init's ConfigDrive seed.
      const b64 = /^d-i preseed\/late_command string echo (\S+) \| base64 -d/m.exec(ks)?.[1] ?? '';
      const late = Buffer.from(b64, 'base64').toString('utf8');
      expect(late).toContain(CONFIG_DRIVE_SEED);
      for (const [p] of openstack) expect(late).toContain(`/cblr/svc/op/template/system/node-9/path/config_drive/${p}`);
      expect(late).toContain('/cblr/svc/op/nopxe/system/node-9');
      expect((await r.get('template/system/node-9/path/config_drive/../../etc/passwd')).status).toBe(404);
    } finally {
      await r.close();
    }
  });

  it('refuses keep_data at sync, naming it, before any node reboots into the installer', async () => {
    const r = await render('keep-data');
    try {
      await expect(r.sync).rejects.toThrow(/kickstart template of profile debian12-x86_64 failed: .*keep/i);
      expect((await r.get('ks/system/node-9')).status).toBe(404);
    } finally {
      await r.close();
    }
  });
});
