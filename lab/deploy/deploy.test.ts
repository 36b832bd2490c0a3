// deployNode's decisions on scripted ssh/mco output (the real programs answer in
// lab/e2e.test.ts): what runs in which order, which failure names which setting,
// and what Nailgun is told. Mock Nailgun is the real HTTP mock.
import { afterEach, describe, expect, it } from 'vitest';
import { ANY_EXIT, RecordingRunner, type RunResult } from '../../agent/core/runner.js';
import type { DeployServices } from '../master/deploy-services.js';
import { startNailgun, type StartedNailgun } from '../mocks/nailgun.js';
import { Stages } from '../stages.js';
import { deployNode, FACTER_CONF, FACTS_FILE, type DeployEnv } from './deploy.js';

const IP = '10.97.3.124';
const MAC = '52:54:00:f0:03:00';
const INVENTORY = '[{"agent":"rpcutil","action":"inventory","sender":"1","statuscode":0,"statusmsg":"OK","data":{"agents":["rpcutil","discovery"],"facts":{},"version":"2.12.5"}}]';

let nailgun: StartedNailgun | undefined;
afterEach(async () => {
  await nailgun?.close();
  nailgun = undefined;
});

/** The remote command of an ssh argv (its last element), or undefined for other programs. */
const remote = (argv: readonly string[]): string | undefined => (argv[0] === 'ssh' ? argv.at(-1) : undefined);

function fakeServices(runner: RecordingRunner, brokerLog: string): DeployServices {
  const exec = (argv: readonly string[]): Promise<RunResult> => runner.run(['docker', 'exec', 'deploy', ...argv], { okExitCodes: ANY_EXIT });
  return {
    brokerIp: '10.97.3.4', deployIp: '10.97.3.5',
    puppetUrl: 'rsync://10.97.3.5/puppet/', exec, brokerLog: async () => brokerLog,
    stopBroker: async () => undefined, startBroker: async () => undefined, dispose: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
}

async function setup(respond: (argv: readonly string[]) => Partial<RunResult> | undefined, brokerLog = '') {
  nailgun = await startNailgun();
  await fetch(`${nailgun.url}/api/nodes/agent`, { method: 'POST', body: JSON.stringify({ macs: [MAC], inventory: {} }) });
  const node = nailgun.nodeByMac(MAC);
  if (!node) throw new Error('discovery did not register the node');
  const runner = new RecordingRunner({ respond });
  const deploy: DeployEnv = { runner, key: { path: '/k', publicKey: 'ssh-ed25519 AAAA k', knownHosts: '/kh' }, services: fakeServices(runner, brokerLog), nodeIp: async () => IP };
  const ctx = { nailgun, stages: new Stages(), deploy, timeouts: { ssh: 5000, mcollective: 5000, puppet: 5000 } };
  return { runner, node, ctx };
}

describe('deployNode', () => {
  it('ssh, mco ping + inventory, then facts, facter config, rsync, puppet apply, read back: ready', async () => {
    const { runner, node, ctx } = await setup((argv) => {
      const r = remote(argv);
      if (r === 'hostname --fqdn') return { stdout: 'node-1.domain.tld\n' };
      if (r?.startsWith('puppet apply')) return { exitCode: 2, stdout: 'Notice: Applied catalog in 12.09 seconds\n' };
      if (r === 'cat /etc/fuel-forge/deployed.yaml') return { stdout: 'uid: "1"\nrole: "compute"\ndeployed_by: puppet\n' };
      if (r?.startsWith('systemctl is-enabled')) return { stdout: 'enabled\n' };
      if (r?.startsWith('systemctl is-active')) return { stdout: 'active\n' };
      if (argv.includes('ping')) return { stdout: '1                                        time=41.38 ms\n' };
      if (argv.includes('inventory')) return { stdout: INVENTORY };
      return undefined;
    });
    const out = await deployNode(ctx, { name: 'node-1', macs: [MAC], role: 'compute' }, node);
    expect(out.checks.map((c) => [c.name.split(':')[0], c.ok])).toEqual([['ssh', true], ['mcollective', true], ['deployment', true]]);
    expect(out.ready).toBe(true);
    const cmds = runner.calls.map((a) => remote(a)).filter((r): r is string => r !== undefined);
    const at = (prefix: string): number => cmds.findIndex((c) => c.startsWith(prefix));
    // The deployment's facts and facter's config are in place before puppet runs, the code after rsync.
    expect(at(`tee ${FACTS_FILE}`)).toBeLessThan(at('puppet apply'));
    expect(at(`tee ${FACTER_CONF}`)).toBeLessThan(at('puppet apply'));
    expect(at('rsync -a --delete rsync://10.97.3.5/puppet/ /etc/puppet/fuel-forge/')).toBeLessThan(at('puppet apply'));
    expect(runner.calls.some((a) => a[0] === 'ssh-keygen' && a.includes('-R') && a.includes(IP))).toBe(true);
    expect(nailgun?.node(node.id)).toMatchObject({ status: 'ready', errorMessage: undefined });
  });

  it('a refused key and a refused broker login: each named, puppet never started, Nailgun error names both', async () => {
    const log = [
      `<0.733.0> accepting STOMP connection <0.733.0> (${IP}:42202 -> 10.97.3.4:61613)`,
      "<0.733.0> STOMP login failed for user 'mcollective': authentication failed",
    ].join('\n');
    const { runner, node, ctx } = await setup((argv) => {
      if (argv[0] === 'ssh') return { exitCode: 255, stderr: `root@${IP}: Permission denied (publickey).\n` };
      if (argv.includes('ping')) return { stdout: '\n---- ping statistics ----\nNo responses received\n', exitCode: 4 };
      return undefined;
    }, log);
    const out = await deployNode(ctx, { name: 'node-2', macs: [MAC], role: 'ceph-osd' }, node);
    expect(out.ready).toBe(false);
    expect(out.checks[0]?.detail).toMatch(/refused the master's key.*ks_meta\.authorized_keys/);
    expect(out.checks[1]?.detail).toMatch(/STOMP login as 'mcollective' 1 time\(s\) \(from 10\.97\.3\.124\).*ks_meta\.mco_password/);
    expect(out.checks[2]).toMatchObject({ ok: false, detail: expect.stringContaining('not started') });
    expect(runner.calls.some((a) => remote(a)?.startsWith('puppet'))).toBe(false);
    expect(nailgun?.node(node.id)).toMatchObject({ status: 'error', errorType: 'deploy', errorMessage: expect.stringMatching(/authorized_keys.*mco_password/) });
  });

  it('a refusal from another address, or from this one before the node booted, is not this node\'s: it waits, then says nobody refused it', async () => {
    const other = [
      "<0.9.0> accepting STOMP connection <0.9.0> (10.97.3.150:1 -> 10.97.3.4:61613)",
      "<0.9.0> STOMP login failed for user 'mcollective': authentication failed",
      // The same address, an hour before this node was discovered: the node that had the lease then.
      `2020-01-01 00:00:00.000001+00:00 [info] <0.10.0> accepting STOMP connection <0.10.0> (${IP}:2 -> 10.97.3.4:61613)`,
      "2020-01-01 00:00:00.000002+00:00 [warning] <0.10.0> STOMP login failed for user 'mcollective': authentication failed",
    ].join('\n');
    const { node, ctx } = await setup((argv) => (remote(argv) === 'hostname --fqdn' ? { stdout: 'n\n' } : argv.includes('ping') ? { stdout: '' } : undefined), other);
    const out = await deployNode({ ...ctx, timeouts: { ...ctx.timeouts, mcollective: 1500 } }, { name: 'node-3', macs: [MAC], role: 'compute' }, node);
    expect(out.checks[1]).toMatchObject({ ok: false, detail: expect.stringContaining(`the broker refused no login from ${IP}`) });
  }, 20_000);
});
