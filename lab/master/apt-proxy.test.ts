// The master's Debian archive proxy: apt sources → archive URL, the
// apt-cacher-ng config, its access log and `ss` output (pure), then the real
// apt-cacher-ng on 127.0.0.1 in front of a local stand-in mirror (a node HTTP
// server that counts what it is asked for), so the config's meaning is checked
// by the program itself: archive served and cached, everything else refused.
// lab/master/apt-proxy.vm.test.ts runs it on a real lab bridge against the real mirror.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import {
  MAX_PORT, aptCacherArgv, aptCacherConfig, archiveStats, hostMirrors, listenersArgv, parseAcngLog, parsePortHolders, startAptProxy, type AptProxy,
} from './apt-proxy.js';

// This machine's /etc/apt/sources.list.d/debian.sources.
const DEBIAN_SOURCES = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.debian.org/archive/debian-security/20250520T000000Z
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('hostMirrors: the Debian archive among the host\'s apt sources', () => {
  it('deb822: the archive, not the security archive', () => {
    expect(hostMirrors({ name: 'debian.sources', text: DEBIAN_SOURCES })).toEqual(['http://deb.debian.org/debian']);
  });

  it('one-line sources.list: options, comments, deb-src, security and third-party repositories', () => {
    const list = [
      '# deb http://commented.example/debian bookworm main',
      'deb-src http://src.example/debian bookworm main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://ftp.de.debian.org/debian/ bookworm main contrib',
      'deb http://security.debian.org/debian-security bookworm-security main',
      'deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main',
      'deb http://archive.ubuntu.com/ubuntu jammy main',
      'deb http://ftp.de.debian.org/debian bookworm-updates main',
      'deb cdrom:[Debian GNU/Linux 12]/ bookworm main',
      'deb http://deb.debian.org/debian stable-backports main',
    ].join('\n');
    expect(hostMirrors({ name: 'sources.list', text: list })).toEqual(['http://ftp.de.debian.org/debian', 'http://deb.debian.org/debian']);
  });

  it('several files in apt\'s order; disabled stanzas and non-deb types skipped; duplicates once', () => {
    const nodesource = 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n';
    const disabled = 'Types: deb\nURIs: http://disabled.example/debian\nSuites: bookworm\nEnabled: no\n\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n';
    const two = 'Types: deb\nURIs: http://mirror.example/debian https://deb.debian.org/debian/\nSuites: trixie\nComponents: main\n';
    expect(hostMirrors(
      { name: 'sources.list', text: 'deb http://deb.debian.org/debian bookworm main\n' },
      { name: 'a.sources', text: DEBIAN_SOURCES },
      { name: 'nodesource.sources', text: nodesource },
      { name: 'off.sources', text: disabled },
      { name: 'two.sources', text: two },
    )).toEqual(['http://deb.debian.org/debian', 'http://mirror.example/debian', 'https://deb.debian.org/debian']);
    expect(hostMirrors({ name: 'empty.list', text: '' })).toEqual([]);
  });
});

describe('aptCacherConfig', () => {
  const base = { bindAddress: '10.97.5.1', port: 3142, cacheDir: '/var/cache/fuel-forge/apt-cacher-ng', logDir: '/tmp/forge-apt-proxy-x/log' };

  it('binds the lab address, remaps /debian to the host\'s mirror and serves nothing else', () => {
    const text = aptCacherConfig({ ...base, upstream: 'http://deb.debian.org/debian/' });
    const lines = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual([
      'CacheDir: /var/cache/fuel-forge/apt-cacher-ng',
      'LogDir: /tmp/forge-apt-proxy-x/log',
      'BindAddress: 10.97.5.1',
      'Port: 3142',
      'SocketPath: /tmp/forge-apt-proxy-x/log/admin.sock',
      'ForeGround: 1',
      'Remap-debrep: /debian ; http://deb.debian.org/debian',
      'ForceManaged: 1',
      'PassThroughPattern: ^$',
      'ForwardBtsSoap: 0',
      'RedirMax: 0',
      'ReportPage:',
      'UseWrap: 0',
      'ExThreshold: 4',
      'VerboseLog: 1',
      'UnbufferLogs: 1',
    ]);
    // Neither the package's LocalDirs (acng-doc) nor any other Remap.
    expect(text).not.toMatch(/LocalDirs|Remap-(?!debrep)|Proxy:/i);
  });

  it('several mirrors are fall-backs in order; an explicit socket path is kept', () => {
    const text = aptCacherConfig({ ...base, upstream: ['http://a.example/debian', 'https://b.example/debian'], socketPath: '/tmp/x/s' });
    expect(text).toContain('Remap-debrep: /debian ; http://a.example/debian https://b.example/debian\n');
    expect(text).toContain('SocketPath: /tmp/x/s\n');
  });

  it.each([
    [{ bindAddress: '0.0.0.0' }, 'bindAddress'],
    [{ bindAddress: 'localhost' }, 'bindAddress'],
    [{ port: 0 }, 'port'],
    [{ port: 32768 }, 'port'],
    [{ cacheDir: 'cache' }, 'cacheDir'],
    [{ logDir: '/tmp/a b' }, 'logDir'],
    [{ cacheDir: '/tmp/x\nForceManaged: 0' }, 'cacheDir'],
    [{ upstream: 'ftp://ftp.debian.org/debian' }, 'upstream'],
    [{ upstream: 'http://deb.debian.org/debian # x' }, 'upstream'],
    [{ upstream: 'http://a/debian ; http://b/debian' }, 'upstream'],
    [{ upstream: 'http://user:pw@deb.debian.org/debian' }, 'upstream'],
    [{ upstream: 'http://127.0.0.1:40001/debian' }, 'upstream'],
    [{ upstream: [] }, 'upstream'],
  ] as const)('refuses %j (field %s)', (over, field) => {
    expect(() => aptCacherConfig({ ...base, upstream: 'http://deb.debian.org/debian', ...over })).toThrow(expect.objectContaining({ code: 'USAGE', field }));
  });

  it('runs apt-cacher-ng on its own config directory, dying with its parent', () => {
    expect(aptCacherArgv('/tmp/d/conf')).toEqual(['setpriv', '--pdeathsig', 'KILL', 'apt-cacher-ng', '-c', '/tmp/d/conf']);
    expect(listenersArgv(3142)).toEqual(['ss', '-H', '-l', '-t', '-n', '-p', 'sport', '=', ':3142']);
  });
});

describe('apt-cacher-ng access log and ss output', () => {
  // Recorded from apt-cacher-ng 3.7.4 with the config above (Release, hello twice, refusals, a 404).
  const LOG = [
    '1795935472|I|149506|127.0.0.1|debrep/dists/bookworm/Release',
    '1795935472|O|149482|127.0.0.1|debrep/dists/bookworm/Release',
    '1795935472|I|53344|127.0.0.1|debrep/pool/main/h/hello/hello_2.10-3_amd64.deb',
    '1795935472|O|53313|127.0.0.1|debrep/pool/main/h/hello/hello_2.10-3_amd64.deb',
    '1795935472|O|53313|10.97.5.33|debrep/pool/main/h/hello/hello_2.10-3_amd64.deb',
    '1795935472|E|679|127.0.0.1|example.org/ [HTTP error, code: 500]',
    '1795935472|O|679|127.0.0.1|debian-security/dists/bookworm-security/Release',
    '1795935477|I|164|127.0.0.1|debrep/pool/main/h/hello/hello_9.99_amd64.deb [HTTP error, code: 404]',
    '1795935477|E|613|127.0.0.1|debrep/pool/main/h/hello/hello_9.99_amd64.deb [HTTP error, code: 404]',
    '',
  ].join('\n');

  it('parses each line: fetched from upstream (I), served (O), errors (E)', () => {
    const r = parseAcngLog(LOG);
    expect(r).toHaveLength(9);
    expect(r[4]).toEqual({
      time: 1795935472, kind: 'served', bytes: 53313, client: '10.97.5.33',
      path: 'debrep/pool/main/h/hello/hello_2.10-3_amd64.deb', archivePath: 'pool/main/h/hello/hello_2.10-3_amd64.deb',
    });
    expect(r[5]).toEqual({ time: 1795935472, kind: 'error', bytes: 679, client: '127.0.0.1', path: 'example.org/', note: 'HTTP error, code: 500' });
    expect(r[6]?.archivePath).toBeUndefined();
  });

  it('per archive file: served more often than fetched = cache hits', () => {
    const s = archiveStats(parseAcngLog(LOG));
    expect(s.get('pool/main/h/hello/hello_2.10-3_amd64.deb')).toEqual({ fetched: 1, served: 2, errors: 0 });
    expect(s.get('dists/bookworm/Release')).toEqual({ fetched: 1, served: 1, errors: 0 });
    expect(s.get('pool/main/h/hello/hello_9.99_amd64.deb')).toEqual({ fetched: 0, served: 0, errors: 2 });
  });

  it('names the processes listening on a port', () => {
    const ss = [
      'LISTEN 0      250          0.0.0.0:3142      0.0.0.0:*    users:(("apt-cacher-ng",pid=5869,fd=12))',
      'LISTEN 0      250             [::]:3142         [::]:*    users:(("apt-cacher-ng",pid=5869,fd=13))',
      'LISTEN 0      4096       10.97.5.1:3142      0.0.0.0:*    users:(("node",pid=77,fd=20),("node",pid=78,fd=20))',
      '',
    ].join('\n');
    expect(parsePortHolders(ss)).toEqual([
      { local: '0.0.0.0:3142', process: 'apt-cacher-ng', pid: 5869 },
      { local: '[::]:3142', process: 'apt-cacher-ng', pid: 5869 },
      { local: '10.97.5.1:3142', process: 'node', pid: 77 },
      { local: '10.97.5.1:3142', process: 'node', pid: 78 },
    ]);
  });
});

/** One HTTP GET (or CONNECT through the proxy); status and body. */
function get(url: string, o: { proxy?: string; method?: string } = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const u = new URL(o.proxy ?? url);
    const req = request({
      host: u.hostname, port: u.port, method: o.method ?? 'GET',
      // Proxy style: the absolute URL (or host:port for CONNECT) as the request target.
      path: o.proxy ? (o.method === 'CONNECT' ? new URL(url).host : url) : `${u.pathname}${u.search}`,
      headers: { Connection: 'close' },
    });
    req.on('connect', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, body: Buffer.alloc(0) }); });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.end();
  });
}

/** A port free right now below apt-cacher-ng's limit (the kernel's ephemeral ports are all above it). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * (MAX_PORT - 20_000));
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

describe('apt-cacher-ng with this config, in front of a stand-in mirror on 127.0.0.1', () => {
  const runner = new ExecaRunner();
  const DEB = 'pool/main/h/hello/hello_2.10-3_amd64.deb';
  const debBody = Buffer.from('!<arch>\ndebian-binary   fake hello package\n'.repeat(50));
  const asked: string[] = [];
  let mirror: Server;
  let dir = '';
  let proxy: AptProxy;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'forge-apt-proxy-test-'));
    mirror = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/debian/dists/bookworm/Release') res.end('Origin: Debian\nCodename: bookworm\n');
      else if (req.url === `/debian/${DEB}`) res.end(debBody);
      else { res.statusCode = 404; res.end(); }
    });
    // apt-cacher-ng reaches an upstream port above 32767 as a wrong one (503 Connection refused).
    const mirrorPort = await freePort();
    await new Promise<void>((r) => mirror.listen(mirrorPort, '127.0.0.1', r));
    const upstream = `http://127.0.0.1:${mirrorPort}/debian`;
    proxy = await startAptProxy({ runner, bindAddress: '127.0.0.1', port: await freePort(), cacheDir: join(dir, 'cache'), upstream });
  }, 60_000);

  afterAll(async () => {
    await proxy?.dispose();
    await new Promise((r) => mirror?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the archive at /debian from the upstream mirror, then a package from its cache', async () => {
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/debian$/);
    const release = await get(`${proxy.url}/dists/bookworm/Release`);
    expect([release.status, release.body.toString()]).toEqual([200, 'Origin: Debian\nCodename: bookworm\n']);
    for (let i = 0; i < 2; i++) {
      const deb = await get(`${proxy.url}/${DEB}`);
      expect(deb.status).toBe(200);
      expect(deb.body.equals(debBody)).toBe(true);
    }
    expect(asked.filter((u) => u.endsWith('.deb'))).toEqual([`/debian/${DEB}`]);
    expect(existsSync(proxy.cachePath(DEB))).toBe(true);
    expect(archiveStats(await proxy.requests()).get(DEB)).toEqual({ fetched: 1, served: 2, errors: 0 });
  });

  it('refuses everything outside the archive: other URLs, proxying, CONNECT, report page, local dirs', async () => {
    const base = proxy.url.replace(/\/debian$/, '');
    const before = asked.length;
    const refused = [
      await get(`${base}/http://example.org/`),
      await get(`${base}/example.org/index.html`),
      await get(`${base}/debian-security/dists/bookworm-security/Release`),
      await get(`${base}/acng-report.html`),
      await get(`${base}/acng-doc/index.html`),
      await get('http://example.org/debian/dists/bookworm/Release', { proxy: base }),
      await get('https://bugs.debian.org:443/', { proxy: base, method: 'CONNECT' }),
    ].map((r) => r.status);
    expect(refused.filter((s) => s < 400), `statuses ${refused.join(' ')}`).toEqual([]);
    expect(asked.length).toBe(before);
    // A file the mirror does not have: its 404, passed on.
    expect((await get(`${proxy.url}/pool/main/h/hello/hello_9.99_amd64.deb`)).status).toBe(404);
  });

  it('a second proxy on the same port names the holder; on the same cache it is refused', async () => {
    const port = Number(new URL(proxy.url).port);
    await expect(startAptProxy({ runner, bindAddress: '127.0.0.1', port, cacheDir: join(dir, 'other'), upstream: 'http://127.0.0.1:1/debian' }))
      .rejects.toThrow(new RegExp(`127\\.0\\.0\\.1:${port} is held by another lab's apt proxy \\(pid ${proxy.pid}`));
    await expect(startAptProxy({ runner, bindAddress: '127.0.0.1', port: await freePort(), cacheDir: proxy.cacheDir, upstream: 'http://127.0.0.1:1/debian' }))
      .rejects.toMatchObject({ code: 'LAB_FAILED', field: 'cacheDir' });
  });

  it('dispose stops it: process gone, port closed, idempotent', async () => {
    const { pid } = proxy;
    await proxy.dispose();
    await proxy.dispose();
    expect(() => process.kill(pid, 0)).toThrow();
    await expect(get(`${proxy.url}/dists/bookworm/Release`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
