// The lab segment's answer to IPv6 router solicitations: "no router here".
//
// QEMU's NIC boot ROMs are iPXE, which configures IPv6 beside DHCP and does not
// fetch its boot file until both are done: on a segment where nothing answers its
// router solicitations it waits ~13 s for them to time out (seen on the lab bridge:
// DHCPACK, then solicitations at +0/0.25/0.8/1.9/3.9/8 s, then the TFTP request at
// +13 s). Every PXE boot pays it, and so does every boot from disk, which passes
// through iPXE first as on a real node. radvd on the lab bridge answers with a
// router advertisement carrying no prefix and a router lifetime of 0: nobody gets
// an address or a default route from it (Linux nodes behave as before), and iPXE
// knows at once that IPv6 has nothing to configure. It is link-local multicast
// on the bridge: nothing leaves the lab.
//
// Pure parts (unit tested): radvdConfig, radvdArgv, labRadvdConfOf, eui64LinkLocal,
// parseAnsweredSolicitations, usableLinkLocal. startRouterAdverts runs radvd through the runner.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';
import type { Logger } from '../../agent/core/log.js';
import { tail, type Runner, type StartedProcess } from '../../agent/core/runner.js';
import { processAlive } from '../../agent/host/build/build-lock.js';
import { readOwnerMark, writeOwnerMark } from '../owner-mark.js';
import { pollUntil } from '../vm/wait.js';

export const RADVD = 'radvd';
/** Prefix of the temp dir holding one bridge's radvd.conf and pid file (lab resources find radvd by it). */
export const RADVD_DIR_PREFIX = 'forge-radvd-';
const CONF = 'radvd.conf';

/** radvd.conf for one bridge: advertisements without prefixes, never a default router. */
export function radvdConfig(bridge: string): string {
  if (!/^[\w.-]{1,15}$/.test(bridge)) throw new ForgeError('USAGE', `radvd: bad bridge name ${JSON.stringify(bridge)}`, { field: 'bridge' });
  return [
    `# fuel-forge lab (lab/master/router-adverts.ts): "no IPv6 router on ${bridge}".`,
    `interface ${bridge} {`,
    '  AdvSendAdvert on;',
    // 0: not a default router. No prefix, RDNSS or DNSSL sections: nothing to configure.
    '  AdvDefaultLifetime 0;',
    '  AdvManagedFlag off;',
    '  AdvOtherConfigFlag off;',
    // Unsolicited adverts are not what iPXE waits for (it solicits): keep them rare.
    '  MinRtrAdvInterval 60;',
    '  MaxRtrAdvInterval 120;',
    '};',
    '',
  ].join('\n');
}

/**
 * radvd in the foreground, logging to stderr; debug level 3 logs each solicitation
 * it answers ("received RS from: <addr>") and its own adverts heard back on the
 * bridge ("received RA from: <addr> (myself)"), which the lab reads.
 */
export const radvdArgv = (confPath: string, pidFile: string): string[] =>
  [RADVD, '--nodaemon', '--config', confPath, '--pidfile', pidFile, '--logmethod', 'stderr', '--debug', '3'];

/** The config path of a radvd the lab started (argv as /proc shows it), else undefined. */
export function labRadvdConfOf(argv: readonly string[]): string | undefined {
  if (basename(argv[0] ?? '') !== RADVD) return undefined;
  const i = argv.indexOf('--config');
  const conf = i < 0 ? undefined : argv[i + 1];
  return conf && basename(conf) === CONF && basename(dirname(conf)).startsWith(RADVD_DIR_PREFIX) ? conf : undefined;
}

/** The IPv6 link-local address a NIC with this MAC forms (EUI-64): what its solicitations come from. */
export function eui64LinkLocal(mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  if (b.length !== 6 || b.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new ForgeError('USAGE', `not a MAC address: ${JSON.stringify(mac)}`, { field: 'mac' });
  }
  const [b0, b1, b2, b3, b4, b5] = b as [number, number, number, number, number, number];
  const words = [((b0 ^ 0x02) << 8) | b1, (b2 << 8) | 0xff, (0xfe << 8) | b3, (b4 << 8) | b5];
  return `fe80::${words.map((w) => w.toString(16)).join(':')}`;
}

/** Source addresses of the solicitations radvd answered, in order, from its debug log. */
export function parseAnsweredSolicitations(log: string): string[] {
  return [...log.matchAll(/received RS from: ([0-9a-f:]+)/gi)].map((m) => (m[1] as string).toLowerCase());
}

export interface RouterAdverts {
  /** Addresses whose router solicitations radvd answered so far. */
  answered(): string[];
  stop(): Promise<void>;
}

/** `ip -6 -o addr show dev BR scope link` (read-only). */
export const linkLocalArgv = (bridge: string): string[] => ['ip', '-6', '-o', 'addr', 'show', 'dev', bridge, 'scope', 'link'];

/** The usable link-local address in `ip -6 -o addr` output: one that passed duplicate address detection. */
export function usableLinkLocal(out: string): string | undefined {
  for (const l of out.split('\n')) {
    const m = /\binet6 (fe80::[0-9a-f:]+)\/\d+/i.exec(l);
    if (m?.[1] && !/\b(tentative|dadfailed)\b/.test(l)) return m[1];
  }
  return undefined;
}

/**
 * Starts radvd on `bridge` and waits until it advertises; stop() ends it and removes its files.
 * The bridge must have a port (carrier): its link-local address, which adverts come from,
 * appears only then, and radvd started before it would not advertise for up to 16 s.
 */
export async function startRouterAdverts(runner: Runner, o: { bridge: string; log?: Logger; timeoutMs?: number }): Promise<RouterAdverts> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  await pollUntil(`a link-local IPv6 address on ${o.bridge} (for radvd)`, async () =>
    usableLinkLocal((await runner.run(linkLocalArgv(o.bridge), { readOnly: true, timeoutMs: 10_000 })).stdout), { timeoutMs, pollMs: 250 })
    .catch((e: unknown) => {
      const off = readText(`/proc/sys/net/ipv6/conf/${o.bridge}/disable_ipv6`).trim() === '1';
      throw new ForgeError('LAB_FAILED', `${(e as Error).message}${off ? ` — IPv6 is disabled on it (net.ipv6.conf.${o.bridge}.disable_ipv6=1; check net.ipv6.conf.default.disable_ipv6)` : ''}`, { cause: e });
    });
  const dir = await mkdtemp(join(tmpdir(), `${RADVD_DIR_PREFIX}${o.bridge}-`));
  // Removed on disposal; a killed owner's directory is swept by the next lab (sweepStaleRouterAdverts).
  writeOwnerMark(dir, true);
  const conf = join(dir, CONF);
  await writeFile(conf, radvdConfig(o.bridge));
  // Answers are kept as they are logged; the rest only as a tail for errors.
  const answered: string[] = [];
  let log = '';
  let advertising = false;
  let proc: StartedProcess;
  try {
    proc = runner.start(radvdArgv(conf, join(dir, 'radvd.pid')), {
      group: true,
      onStderrLine: (l) => {
        log = tail(`${log}${l}\n`, 2000);
        answered.push(...parseAnsweredSolicitations(l));
        // Its first advert, heard back on the bridge: it is advertising.
        if (/received RA from: \S+ \(myself\)/.test(l)) advertising = true;
      },
    });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let exited = false;
  const ended = proc.exited.then(() => void (exited = true));
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await ended;
    clearTimeout(t);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await pollUntil(`radvd's first advert on ${o.bridge}`, async () => (advertising ? true : undefined), {
      timeoutMs,
      pollMs: 100,
      failWhen: () => (exited ? 'radvd exited' : undefined),
    });
  } catch (e) {
    await stop();
    throw new ForgeError('LAB_FAILED', `${(e as Error).message}: ${tail(log, 600)}`, { command: proc.argv, cause: e });
  }
  o.log?.info('master.router_adverts.up', { bridge: o.bridge, pid: proc.pid, why: 'iPXE waits ~13 s for IPv6 routers when nothing answers' });
  return { answered: () => [...answered], stop };
}

/**
 * Removes what killed lab processes left: each radvd directory whose owner is dead, and its
 * radvd if still running (found by the pid file, checked against /proc). Returns the directories.
 */
export function sweepStaleRouterAdverts(tmp = tmpdir(), isAlive: (pid: number) => boolean = processAlive): string[] {
  const swept: string[] = [];
  for (const name of readdirSync(tmp).filter((n) => n.startsWith(RADVD_DIR_PREFIX))) {
    const dir = join(tmp, name);
    const mark = readOwnerMark(dir);
    if (!mark || isAlive(mark.pid)) continue;
    const pid = Number(readText(join(dir, 'radvd.pid')).trim());
    const argv = Number.isInteger(pid) && pid > 0 ? readText(`/proc/${pid}/cmdline`).split('\0') : [];
    if (labRadvdConfOf(argv) === join(dir, CONF)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Not a group leader any more, or gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    swept.push(dir);
  }
  return swept;
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
