// The master's Debian archive on a real master network: apt-cacher-ng runs on
// the host, bound to the lab bridge's gateway address, and a container on the
// bridge (the lab's side, no route out) fetches through it with apt's own HTTP
// client (apt-helper, as in the master image): the archive's Release, a package
// twice (the second time from the cache), refusals for anything else — and a
// direct fetch from the real mirror's address goes nowhere, counted by the
// containment guard, while nothing leaks. The independent parties: the real
// mirror, apt's HTTP method and the kernel's packet counters.
import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANY_EXIT, ExecaRunner, type RunResult } from '../../agent/core/runner.js';
import { archiveStats, readHostMirrors, startAptProxy, type AptProxy } from './apt-proxy.js';
import { containerIpArgv, execArgv, rmForceArgv, runHelperArgv } from './docker-cli.js';
import { startMasterNetwork, type MasterNetwork } from './master-net.js';

const runner = new ExecaRunner();
/** bookworm's `hello` (main, amd64): 53 kB. */
const HELLO_DEB = 'pool/main/h/hello/hello_2.10-3_amd64.deb';
let dir = '';
let master: MasterNetwork;
let proxy: AptProxy;
let client = '';
let clientIp = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forge-apt-proxy-vm-'));
  master = await startMasterNetwork({ runner, tftpRoot: dir, imagesDir: dir });
  proxy = await startAptProxy({ runner, bindAddress: master.gatewayIp });
  // A lab client: the master image (apt is in it) on the bridge, the lab's dnsmasq as its only
  // name server, labelled so the master network's disposal sweeps it whatever happens here.
  client = (await runner.run(runHelperArgv({ network: master.name, dns: master.dnsmasqIp, name: `${master.name}-aptclient`, image: master.image }), { timeoutMs: 60_000 })).stdout.trim();
  clientIp = (await runner.run(containerIpArgv(client, master.name), { timeoutMs: 30_000, readOnly: true })).stdout.trim();
}, 15 * 60_000);

afterAll(async () => {
  if (client) await runner.run(rmForceArgv([client]), { timeoutMs: 60_000 }).catch(() => undefined);
  await proxy?.dispose();
  await master?.dispose();
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const exec = (argv: readonly string[], timeoutMs = 60_000): Promise<RunResult> =>
  runner.run(execArgv(client, argv), { timeoutMs, okExitCodes: ANY_EXIT });

interface Fetched {
  ok: boolean;
  /** The HTTP status apt reported for a failure (`Err:1 URL\n  403  Forbidden …`). */
  status?: number;
  out: string;
}

/** apt's HTTP method, from inside the lab: one try, a short timeout; the file lands in `to`. */
async function aptFetch(url: string, to: string, o: { proxy?: string; timeoutS?: number } = {}): Promise<Fetched> {
  const r = await exec([
    '/usr/lib/apt/apt-helper', '-o', 'Acquire::Retries=0', '-o', `Acquire::http::Timeout=${o.timeoutS ?? 20}`,
    ...(o.proxy ? ['-o', `Acquire::http::Proxy=${o.proxy}`] : []),
    'download-file', url, to,
  ], 120_000);
  const out = r.stdout + r.stderr;
  const status = /^Err:\d+ \S+\n\s+(\d{3})\s/m.exec(out)?.[1];
  return { ok: r.exitCode === 0, ...(status ? { status: Number(status) } : {}), out };
}

const size = async (path: string): Promise<number> => Number((await exec(['stat', '--format=%s', path])).stdout.trim());

describe('the master\'s Debian archive (apt-cacher-ng on the lab bridge) seen from the lab', () => {
  it('serves the archive at http://<gateway>:3142/debian', async () => {
    expect(proxy.url).toBe(`http://${master.gatewayIp}:3142/debian`);
    expect(proxy.upstream).toEqual(await readHostMirrors()); // this machine: http://deb.debian.org/debian
    const r = await aptFetch(`${proxy.url}/dists/bookworm/Release`, '/tmp/Release');
    expect(r.ok, r.out).toBe(true);
    expect((await exec(['cat', '/tmp/Release'])).stdout).toMatch(/^Codename: bookworm$/m);
  }, 120_000);

  it('fetches a package from the mirror at most once (the cache persists across runs); the second request is served from the cache', async () => {
    const first = await aptFetch(`${proxy.url}/${HELLO_DEB}`, '/tmp/hello1.deb');
    expect(first.ok, first.out).toBe(true);
    const afterFirst = archiveStats(await proxy.requests()).get(HELLO_DEB);
    // A warm cache from an earlier run has it already (fetched 0); a cold one fetched it now.
    expect(afterFirst).toMatchObject({ served: 1, errors: 0 });
    expect(afterFirst?.fetched).toBeLessThanOrEqual(1);

    const second = await aptFetch(`${proxy.url}/${HELLO_DEB}`, '/tmp/hello2.deb');
    expect(second.ok, second.out).toBe(true);
    expect(archiveStats(await proxy.requests()).get(HELLO_DEB)).toEqual({ ...afterFirst, served: 2 });
    const cached = proxy.cachePath(HELLO_DEB);
    expect(existsSync(cached)).toBe(true);
    expect(await size('/tmp/hello2.deb')).toBe(statSync(cached).size);
    expect(await size('/tmp/hello1.deb')).toBe(statSync(cached).size);
    // The requests came from the lab client's address on the bridge.
    const mine = (await proxy.requests()).filter((e) => e.archivePath === HELLO_DEB && e.kind === 'served');
    expect(mine.map((e) => e.client)).toEqual([clientIp, clientIp]);
  }, 120_000);

  it('refuses anything outside the archive', async () => {
    const base = proxy.url.replace(/\/debian$/, '');
    const refused = [
      await aptFetch(`${base}/http://example.org/index.html`, '/tmp/x1'),
      await aptFetch(`${base}/debian-security/dists/bookworm-security/Release`, '/tmp/x2'),
      await aptFetch(`${base}/acng-report.html`, '/tmp/x3'),
      // apt configured with the master as its HTTP proxy, asking for another site.
      await aptFetch('http://example.org/debian/dists/bookworm/Release', '/tmp/x4', { proxy: `http://${proxy.host}` }),
    ];
    for (const r of refused) {
      expect(r.ok, r.out).toBe(false);
      expect(r.status, r.out).toBeGreaterThanOrEqual(400);
    }
  }, 120_000);

  it('nothing so far left the lab; a direct fetch from the mirror\'s own address goes nowhere and is counted', async () => {
    expect(await master.containment()).toMatchObject({ attempts: 0, leaked: 0 });
    const { address } = await lookup(new URL(proxy.upstream[0] as string).hostname, { family: 4 });
    const direct = await aptFetch(`http://${address}/debian/dists/bookworm/Release`, '/tmp/direct', { timeoutS: 5 });
    expect(direct.ok, direct.out).toBe(false);
    expect(direct.status, direct.out).toBeUndefined(); // no HTTP answer at all: the connection never got anywhere
    const c = await master.containment();
    expect(c.attempts, JSON.stringify(c)).toBeGreaterThan(0);
    expect(c.leaked, JSON.stringify(c)).toBe(0);
  }, 120_000);
});
