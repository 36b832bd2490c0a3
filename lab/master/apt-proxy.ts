// The master's Debian archive, as the classic installer (debian-installer) and
// apt in a lab node see it: http://<gatewayIp>:3142/debian/. Lab nodes have no
// route out (lab/master/guard.ts), so apt-cacher-ng runs as a HOST process bound
// to the host's address on the lab bridge (where mock Nailgun/Cobbler listen) and
// fills its cache from the Debian mirror apt already uses on the host. It serves
// that archive and nothing else: no proxying of other URLs, no CONNECT tunnels,
// no report page, no local directories, and not the security archive.
//
// Pure parts (unit tested): hostMirrors (apt sources → Debian archive URLs),
// aptCacherConfig (the config file), parseAcngLog (the access log),
// parsePortHolders (`ss -ltnp`). startAptProxy runs it through the runner.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { createCtx, realClock } from '../../agent/core/context.js';
import { ForgeError, isForgeError } from '../../agent/core/errors.js';
import type { Logger } from '../../agent/core/log.js';
import { tail, type Runner, type StartedProcess } from '../../agent/core/runner.js';
import { parseAptSources, readAptSources, type AptSource } from '../../agent/host/build/apt-sources.js';
import { acquireBuildLock } from '../../agent/host/build/build-lock.js';
import { forgeCacheDir } from '../../agent/host/build/cache-dir.js';
import { portAnswers, tcpPort } from '../vm/wait.js';

/** apt-cacher-ng's registered port (and the Debian package's daemon's). */
export const APT_PROXY_PORT = 3142;
/**
 * apt-cacher-ng 3.7 handles ports as signed 16-bit numbers: it cannot bind one above
 * 32767 ("Error resolving address for binding", and keeps running without a listener)
 * and reaches an upstream port above it as a wrong one (503 Connection refused).
 */
export const MAX_PORT = 32767;
/** Where the archive appears on the proxy: http://<host>:<port>/debian/. */
export const ARCHIVE_DIRECTORY = '/debian';
/** The Remap repository name: the archive's files live under <cacheDir>/debrep/. */
export const ARCHIVE_REPOSITORY = 'debrep';

// ---------------------------------------------------------------------------
// The host's Debian archive(s)

export interface AptSourcesFile {
  /** File name: `*.sources` is deb822, anything else the one-line format. */
  name: string;
  text: string;
}

/**
 * Debian's release names and classes; `-updates`, `-backports` and
 * `-proposed-updates` live in the same archive, `-security` does not.
 */
const DEBIAN_SUITE_RE =
  /^(?:buster|bullseye|bookworm|trixie|forky|duke|sid|experimental|(?:old)*stable|testing|unstable)(?:-updates|-backports(?:-sloppy)?|-proposed-updates)?$/;

/** Which of these sources are the Debian archive (not the security archive, not third-party repositories). */
export function debianArchives(sources: readonly AptSource[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (!/^https?:\/\//i.test(s.uri)) continue;
    if (!s.suites.some((suite) => DEBIAN_SUITE_RE.test(suite))) continue;
    const uri = s.uri.replace(/\/+$/, '');
    if (!out.includes(uri)) out.push(uri);
  }
  return out;
}

/** The Debian archive URL(s) in these apt source files, in apt's order, without trailing slashes. */
export function hostMirrors(...files: readonly AptSourcesFile[]): string[] {
  return debianArchives(files.flatMap((f) => parseAptSources(f.name, f.text)));
}

/** hostMirrors() of this machine's /etc/apt (sources.list, then sources.list.d/*.list|*.sources). */
export async function readHostMirrors(etcApt = '/etc/apt'): Promise<string[]> {
  return debianArchives(await readAptSources(etcApt));
}

// ---------------------------------------------------------------------------
// The config file

export interface AptCacherConfigInput {
  /** One specific local address (the lab bridge's gateway); never a wildcard. */
  bindAddress: string;
  port: number;
  cacheDir: string;
  logDir: string;
  /** The mirror(s) to fill from, in order of preference (apt-cacher-ng falls back to the next). */
  upstream: string | readonly string[];
  /** apt-cacher-ng's admin socket; default <logDir>/admin.sock (never the package's /run/apt-cacher-ng/socket). */
  socketPath?: string;
}

const configError = (field: string, msg: string): ForgeError => new ForgeError('USAGE', `apt proxy: ${field} ${msg}`, { field });

/** A path that reads back as written from a `Key: value` line. */
function checkPath(field: string, p: string): void {
  if (!isAbsolute(p) || /[\s#;]/.test(p) || [...p].some((c) => c.charCodeAt(0) < 0x20)) {
    throw configError(field, `must be an absolute path without whitespace, '#' or ';', got ${JSON.stringify(p)}`);
  }
}

/** An http(s) URL that survives a Remap line (space-separated, ';' separates fields, '#' starts a comment). */
export function checkUpstream(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw configError('upstream', `must be an http(s) URL, got ${JSON.stringify(u)}`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || /[\s#;]/.test(u) || url.username || url.password || url.search) {
    throw configError('upstream', `must be an http(s) URL without credentials, query, whitespace, '#' or ';', got ${JSON.stringify(u)}`);
  }
  if (url.port && Number(url.port) > MAX_PORT) {
    // It connects to a wrong port (503 Connection refused): refuse it here instead.
    throw configError('upstream', `port must be at most ${MAX_PORT} (apt-cacher-ng cannot reach higher ports), got ${JSON.stringify(u)}`);
  }
  return u.replace(/\/+$/, '');
}

export function checkBindAddress(a: string): void {
  if (!isIP(a) || a === '0.0.0.0' || a === '::') {
    throw configError('bindAddress', `must be one local IP address (not a wildcard), got ${JSON.stringify(a)}`);
  }
}

export function checkPort(p: number): void {
  if (!Number.isInteger(p) || p < 1 || p > MAX_PORT) throw configError('port', `must be 1-${MAX_PORT} (apt-cacher-ng cannot bind higher ports), got ${p}`);
}

/**
 * apt-cacher-ng's configuration (one file in its own config directory, read
 * with `-c DIR`, so nothing of /etc/apt-cacher-ng applies). The facts relied on
 * are from its manual (/usr/share/doc/apt-cacher-ng/html) and the commented
 * /etc/apt-cacher-ng/acng.conf, and were checked against the daemon itself.
 */
export function aptCacherConfig(c: AptCacherConfigInput): string {
  checkBindAddress(c.bindAddress);
  checkPort(c.port);
  checkPath('cacheDir', c.cacheDir);
  checkPath('logDir', c.logDir);
  const socketPath = c.socketPath ?? join(c.logDir, 'admin.sock');
  checkPath('socketPath', socketPath);
  const upstream = (typeof c.upstream === 'string' ? [c.upstream] : [...c.upstream]).map(checkUpstream);
  if (!upstream.length) throw configError('upstream', 'must name at least one mirror');
  return [
    '# fuel-forge: the lab master\'s Debian archive (lab/master/apt-proxy.ts). Generated; do not edit.',
    `CacheDir: ${c.cacheDir}`,
    `LogDir: ${c.logDir}`,
    // The lab bridge's address only: nothing else on the host (or its other networks) is served.
    `BindAddress: ${c.bindAddress}`,
    `Port: ${c.port}`,
    // Default /run/apt-cacher-ng/socket belongs to the package's daemon.
    `SocketPath: ${socketPath}`,
    // Stays the runner's child: stopped by a signal, never a daemon left behind.
    'ForeGround: 1',
    // Clients use http://<bindAddress>:<port>/debian/ as their mirror (no DNS in the
    // guest); the files come from the host's mirror(s), in order of preference.
    `Remap-${ARCHIVE_REPOSITORY}: ${ARCHIVE_DIRECTORY} ; ${upstream.join(' ')}`,
    // Only URLs matched by a Remap rule: no proxying of http://anything/ (403).
    'ForceManaged: 1',
    // CONNECT tunnels: the built-in default lets bugs.debian.org:443 through; match nothing.
    'PassThroughPattern: ^$',
    // apt-listbugs' SOAP pass-through to bugs.debian.org.
    'ForwardBtsSoap: 0',
    // A redirect is handed to the client, never followed to another server.
    'RedirMax: 0',
    // No report/maintenance page (empty = off); LocalDirs is left unset (none).
    'ReportPage:',
    // hosts.allow/hosts.deny of this machine are not consulted.
    'UseWrap: 0',
    // Expiration only runs when triggered (cron/acngtool against the report page, both off here):
    // the cache is kept warm across runs; 4 days is the package's value should anyone run it.
    'ExThreshold: 4',
    // Client addresses in the access log, written line by line (requests() reads it live).
    'VerboseLog: 1',
    'UnbufferLogs: 1',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// The access log

export type AcngLogKind = 'fetched' | 'served' | 'error';

/** One line of apt-cacher.log: `time|I|bytes|client|path` (I: from upstream, O: to the client, E: error). */
export interface AptProxyRequest {
  /** Unix seconds. */
  time: number;
  kind: AcngLogKind;
  bytes: number;
  client: string;
  /** As logged: `debrep/pool/…` for archive files, the raw request otherwise. */
  path: string;
  /** The path under /debian/ when it is an archive file (`pool/main/h/hello/…`). */
  archivePath?: string;
  /** Trailing note, e.g. `HTTP error, code: 404`. */
  note?: string;
}

const KIND: Record<string, AcngLogKind> = { I: 'fetched', O: 'served', E: 'error' };

export function parseAcngLog(text: string): AptProxyRequest[] {
  const out: AptProxyRequest[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+)\|([IOE])\|(\d+)\|([^|]*)\|(.*)$/.exec(line.trimEnd());
    if (!m) continue;
    const rest = m[5] as string;
    const note = /^(.*?)\s*\[([^\]]*)\]$/.exec(rest);
    const path = note ? (note[1] as string) : rest;
    const r: AptProxyRequest = { time: Number(m[1]), kind: KIND[m[2] as string] as AcngLogKind, bytes: Number(m[3]), client: m[4] as string, path };
    if (path.startsWith(`${ARCHIVE_REPOSITORY}/`)) r.archivePath = path.slice(ARCHIVE_REPOSITORY.length + 1);
    if (note) r.note = note[2] as string;
    out.push(r);
  }
  return out;
}

export interface ArchiveFileStats {
  /** Times the file came from the upstream mirror. */
  fetched: number;
  /** Times it was sent to a client (fetched or from the cache). */
  served: number;
  errors: number;
}

/** Per archive path: how often it was fetched upstream and served; served > fetched means cache hits. */
export function archiveStats(entries: readonly AptProxyRequest[]): Map<string, ArchiveFileStats> {
  const m = new Map<string, ArchiveFileStats>();
  for (const e of entries) {
    if (e.archivePath === undefined) continue;
    const s = m.get(e.archivePath) ?? { fetched: 0, served: 0, errors: 0 };
    if (e.kind === 'fetched' && e.note === undefined) s.fetched++;
    else if (e.kind === 'served') s.served++;
    else s.errors++;
    m.set(e.archivePath, s);
  }
  return m;
}

// ---------------------------------------------------------------------------
// Who holds a port

export interface PortHolder {
  local: string;
  process: string;
  pid: number;
}

/** Listening sockets and their processes from `ss -H -l -t -n -p` output. */
export function parsePortHolders(ssOutput: string): PortHolder[] {
  const out: PortHolder[] = [];
  for (const line of ssOutput.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const local = cols[3] as string;
    for (const u of line.matchAll(/\("([^"]*)",pid=(\d+)/g)) out.push({ local, process: u[1] as string, pid: Number(u[2]) });
  }
  return out;
}

export const listenersArgv = (port: number): string[] => ['ss', '-H', '-l', '-t', '-n', '-p', 'sport', '=', `:${port}`];

export const aptCacherArgv = (configDir: string): string[] =>
  // PDEATHSIG: the daemon dies with this process even when it is SIGKILLed (no stale proxy on a reused address).
  ['setpriv', '--pdeathsig', 'KILL', 'apt-cacher-ng', '-c', configDir];

// ---------------------------------------------------------------------------
// The running proxy

export interface AptProxyOptions {
  runner: Runner;
  /** The host's address on the lab bridge (master.gatewayIp). */
  bindAddress: string;
  /** Default 3142. */
  port?: number;
  /** Default <forgeCacheDir()>/apt-cacher-ng: kept across runs (a warm cache). */
  cacheDir?: string;
  /** Default: the host's Debian archive(s) from /etc/apt (readHostMirrors). */
  upstream?: string | readonly string[];
  log?: Logger;
}

export interface AptProxy extends AsyncDisposable {
  /** http://<bindAddress>:<port>/debian — a node's apt/d-i mirror URL. */
  readonly url: string;
  /** <bindAddress>:<port> — d-i's mirror/http/hostname. */
  readonly host: string;
  /** /debian — d-i's mirror/http/directory. */
  readonly directory: string;
  readonly upstream: readonly string[];
  readonly cacheDir: string;
  readonly pid: number;
  /** Where a cached archive file lives (`pool/main/h/hello/hello_2.10-3_amd64.deb` → <cacheDir>/debrep/pool/…). */
  cachePath(archivePath: string): string;
  /** The access log so far (apt-cacher.log). */
  log(): Promise<string>;
  /** apt-cacher.err and the daemon's stderr so far. */
  errorLog(): Promise<string>;
  /** The access log, parsed. */
  requests(): Promise<AptProxyRequest[]>;
  /** Stops apt-cacher-ng, checks that it is gone and the port closed, removes config and logs. Idempotent. */
  dispose(): Promise<void>;
}

const readText = (p: string): Promise<string> => readFile(p, 'utf8').catch(() => '');

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Who listens on `port` (ss); empty when ss cannot tell. */
async function listeners(runner: Runner, port: number): Promise<PortHolder[]> {
  return parsePortHolders(await runner.run(listenersArgv(port), { timeoutMs: 15_000, readOnly: true }).then((r) => r.stdout, () => ''));
}

/** The error for a port someone else listens on, naming who (the packaged daemon gets its own advice). */
async function portTaken(runner: Runner, bindAddress: string, port: number, ownPid: number, why?: string): Promise<ForgeError> {
  const holders = (await listeners(runner, port)).filter((h) => h.pid !== ownPid);
  const acng = holders.find((h) => h.process === 'apt-cacher-ng');
  const where = `${bindAddress}:${port}`;
  if (acng) {
    const cmd = cmdline(acng.pid);
    const packaged = !/forge-apt-proxy-/.test(cmd);
    return new ForgeError('LAB_FAILED', packaged
      ? `apt proxy: port ${where} is held by apt-cacher-ng pid ${acng.pid} (${cmd || 'apt-cacher-ng'}, listening on ${acng.local}) — the apt-cacher-ng package's own service. `
        + 'Stop and disable it (`systemctl disable --now apt-cacher-ng`, without systemd `/etc/init.d/apt-cacher-ng stop; '
        + 'update-rc.d apt-cacher-ng disable`; ci/setup does this) or pass another port'
      : `apt proxy: port ${where} is held by another lab's apt proxy (pid ${acng.pid}: ${cmd})`, {
      field: 'port',
      details: { holder: acng, cmdline: cmd, packaged },
    });
  }
  const who = holders[0];
  return new ForgeError('LAB_FAILED', `apt proxy: apt-cacher-ng could not listen on ${where}${why ? ` (${why})` : ''}`
    + `${who ? `: held by ${who.process} pid ${who.pid} (${who.local}); pass another port` : ''}`, {
    field: 'port',
    details: { holders },
  });
}

export async function startAptProxy(o: AptProxyOptions): Promise<AptProxy> {
  const { runner, bindAddress } = o;
  const port = o.port ?? APT_PROXY_PORT;
  const cacheDir = o.cacheDir ?? join(forgeCacheDir(), 'apt-cacher-ng');
  const log = o.log ?? createCtx({ runner }).log;
  checkBindAddress(bindAddress);
  checkPort(port);
  checkPath('cacheDir', cacheDir);
  const upstream = o.upstream === undefined ? await readHostMirrors() : typeof o.upstream === 'string' ? [o.upstream] : [...o.upstream];
  if (!upstream.length) {
    throw new ForgeError('USAGE', 'apt proxy: no Debian archive in this machine\'s apt sources (/etc/apt); pass upstream', { field: 'upstream' });
  }

  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  try {
    // Two apt-cacher-ng processes must not write one cache directory.
    await mkdir(cacheDir, { recursive: true });
    const lock = await acquireBuildLock(`${cacheDir}.lock`, realClock, { timeoutMs: 0, pollMs: 50 }).catch((e: unknown) => {
      throw new ForgeError('LAB_FAILED', `apt proxy: cache ${cacheDir} is in use by another apt proxy (${(e as Error).message}); pass cacheDir`, {
        field: 'cacheDir', cause: e,
      });
    });
    stack.defer(`lock ${cacheDir}.lock`, () => lock.release());

    const dir = await mkdtemp(join(tmpdir(), 'forge-apt-proxy-'));
    stack.defer(`apt proxy directory ${dir}`, () => rm(dir, { recursive: true, force: true }));
    const configDir = join(dir, 'conf');
    const logDir = join(dir, 'log');
    await mkdir(configDir);
    await mkdir(logDir);
    await writeFile(join(configDir, 'acng.conf'), aptCacherConfig({ bindAddress, port, cacheDir, logDir, upstream }), { mode: 0o644 });

    const argv = aptCacherArgv(configDir);
    let stderr = '';
    const proc: StartedProcess = runner.start(argv, { group: true, onStderrLine: (l) => { stderr = tail(`${stderr}${l}\n`); } });
    let exitReason: string | undefined;
    void proc.exited.then((r) => {
      exitReason = r.signal ? `killed by ${r.signal}` : `exited ${r.exitCode}`;
    });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= (async () => {
      proc.kill('SIGTERM'); // apt-cacher-ng closes its logs and exits on SIGTERM
      const ended = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]);
      if (!ended) {
        proc.kill('SIGKILL');
        await proc.exited;
      }
      // Gone: the process (its pid was reaped by the runner) and the listener.
      if (await portAnswers(bindAddress, port)) {
        throw new ForgeError('LAB_FAILED', `apt proxy: ${bindAddress}:${port} still answers after apt-cacher-ng pid ${proc.pid} ended`, { command: argv });
      }
    })());
    stack.defer(`apt-cacher-ng (pid ${proc.pid})`, stop);

    const failWhen = (): string | undefined => {
      // It does not exit when the bind fails: it says so on stderr and keeps running.
      const why = /^(?:Couldn't|Error)[^\n]*/m.exec(stderr)?.[0];
      return why ?? (exitReason ? `apt-cacher-ng ${exitReason}${stderr.trim() ? `: ${stderr.trim().slice(-400)}` : ''}` : undefined);
    };
    try {
      // A port someone else holds answers too (the packaged daemon on 0.0.0.0:3142), and
      // apt-cacher-ng keeps running when its bind failed: the listener must be this process.
      await tcpPort(bindAddress, port, { timeoutMs: 15_000, pollMs: 100, failWhen }).until().catch(async (e: unknown) => {
        throw /in use/.test(failWhen() ?? '') ? await portTaken(runner, bindAddress, port, proc.pid, failWhen()) : e;
      });
      if (!(await listeners(runner, port)).some((h) => h.pid === proc.pid)) {
        throw await portTaken(runner, bindAddress, port, proc.pid, failWhen() ?? 'another process answers there');
      }
    } catch (e) {
      if (isForgeError(e)) {
        e.details['stderr'] = stderr.slice(-2000);
        e.details['errorLog'] = (await readText(join(logDir, 'apt-cacher.err'))).slice(-2000);
      }
      throw e;
    }

    const url = `http://${bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress}:${port}`;
    log.info('master.apt_proxy.up', { url: `${url}${ARCHIVE_DIRECTORY}`, upstream, cacheDir, pid: proc.pid });
    const accessLog = (): Promise<string> => readText(join(logDir, 'apt-cacher.log'));
    const p: AptProxy = {
      url: `${url}${ARCHIVE_DIRECTORY}`,
      host: url.slice('http://'.length),
      directory: ARCHIVE_DIRECTORY,
      upstream,
      cacheDir,
      pid: proc.pid,
      cachePath: (archivePath) => join(cacheDir, ARCHIVE_REPOSITORY, archivePath.replace(/^\/+/, '')),
      log: accessLog,
      errorLog: async () => (await readText(join(logDir, 'apt-cacher.err'))) + stderr,
      requests: async () => parseAcngLog(await accessLog()),
      dispose: () => stack.dispose(),
      [Symbol.asyncDispose]: () => stack.dispose(),
    };
    return p;
  } catch (e) {
    return await stack.unwind(e);
  }
}
