// The master's deployment services on a real master network: RabbitMQ accepts
// the mcollective account the definitions created (the password hash is checked
// by RabbitMQ itself) and refuses a wrong password with a log line naming the
// client's address; rsyncd serves the puppet code; the broker stops and comes
// back on its address. The independent party everywhere is the real program:
// RabbitMQ, mco (mcollective 2.12's client) and rsync.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import { mcoPingArgv, refusedLogins } from '../deploy/mco.js';
import { labMcoSettings } from '../scenario.js';
import { mcoClientConfig } from './deploy-config.js';
import { startDeployServices, type DeployServices } from './deploy-services.js';
import { startMasterNetwork, type MasterNetwork } from './master-net.js';

const runner = new ExecaRunner();
const mco = labMcoSettings();
let dir = '';
let master: MasterNetwork;
let services: DeployServices;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-deploy-'));
  master = await startMasterNetwork({ runner, tftpRoot: dir, imagesDir: dir });
  services = await startDeployServices({ runner, master, mco });
}, 15 * 60_000);

afterAll(async () => {
  await services?.dispose();
  await master?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** `mco ping` with a client config of these settings; exit code and all output. */
async function ping(cfg: string): Promise<{ exitCode: number; out: string }> {
  await services.exec(['tee', '/tmp/client.cfg'], { input: cfg });
  const r = await services.exec(['mco', 'ping', '--config', '/tmp/client.cfg'], { timeoutMs: 90_000 });
  return { exitCode: r.exitCode, out: r.stdout + r.stderr };
}

describe('deployment services (RabbitMQ + STOMP, mco client, rsyncd) on the master network', () => {
  it('the broker accepts the data\'s mcollective account: mco ping connects and hears nobody yet', async () => {
    const r = await services.exec(mcoPingArgv(), { timeoutMs: 90_000 });
    expect(r.stdout + r.stderr).toContain('No responses received');
    expect(r.stdout + r.stderr).not.toMatch(/ERROR|failed to run/);
    expect(refusedLogins(await services.brokerLog())).toEqual([]);
  }, 120_000);

  it('refuses a wrong mco_password and logs the refusal with the client\'s address', async () => {
    const r = await ping(mcoClientConfig({ ...mco, password: 'wrong' }, services.brokerIp));
    expect(r.out).toMatch(/Received frame of type 'ERROR'/);
    const refused = refusedLogins(await services.brokerLog());
    expect(refused.map((x) => [x.user, x.from])).toContainEqual([mco.user, services.deployIp]);
  }, 120_000);

  it('serves the puppet code over rsync', async () => {
    const r = await services.exec(['rsync', '--recursive', '--list-only', services.puppetUrl]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/manifests\/site\.pp/);
    expect(r.stdout).toMatch(/modules\/fuel_forge_node\/manifests\/init\.pp/);
  }, 60_000);

  it('nothing the services did left the lab (name lookups go to the lab\'s dnsmasq)', async () => {
    // rsyncd resolves a client's address unless told not to; docker's embedded DNS would ask the host's resolvers.
    expect((await services.exec(['getent', 'hosts', 'fuel.domain.tld'])).stdout).toContain(master.gatewayIp);
    expect((await services.exec(['getent', 'hosts', 'example.com'])).exitCode).not.toBe(0);
    expect(await master.containment()).toEqual({ attempts: 0, dropped: 0, leaked: 0 });
  }, 60_000);

  it('a stopped broker refuses connections; started again on the same address it accepts the account', async () => {
    await services.stopBroker();
    const down = await services.exec(mcoPingArgv(), { timeoutMs: 90_000 });
    expect(down.exitCode).not.toBe(0);
    expect(down.stdout + down.stderr).not.toContain('No responses received');
    await services.startBroker();
    const up = await services.exec(mcoPingArgv(), { timeoutMs: 90_000 });
    expect(up.stdout + up.stderr).toContain('No responses received');
  }, 300_000);
});
