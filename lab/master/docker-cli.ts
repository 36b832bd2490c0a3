// docker CLI argv lives here only (the lab's master services): network create/rm,
// image import/inspect, pause/unpause, ps by label, logs. Pure builders plus thin
// runner wrappers, so unit tests assert argv without a daemon.
import { ToolError, type Runner } from '../../agent/core/runner.js';

export const DOCKER = 'docker';
/** Every container and network the lab creates carries this label, so leaks are findable. */
export const LAB_LABEL = 'fuel-forge.lab';
/** The pid of the process that created it: leftovers of dead owners are swept (lab/master/stale.ts). */
export const OWNER_PID_LABEL = 'fuel-forge.owner-pid';

export interface NetworkCreateSpec {
  name: string;
  /** Linux interface name of the bridge (≤ 15 chars), so taps can join it by name. */
  bridge: string;
  subnet: string;
  gateway: string;
  /** Sub-range docker allocates container addresses from (kept clear of the DHCP pool). */
  ipRange?: string;
  labels?: Record<string, string>;
}

export function networkCreateArgv(s: NetworkCreateSpec): string[] {
  const a = [DOCKER, 'network', 'create', '--driver', 'bridge',
    '--subnet', s.subnet, '--gateway', s.gateway];
  if (s.ipRange) a.push('--ip-range', s.ipRange);
  a.push(
    '--opt', `com.docker.network.bridge.name=${s.bridge}`,
    // No NAT to the outside: guests only talk to the master services and the host.
    '--opt', 'com.docker.network.bridge.enable_ip_masquerade=false',
  );
  for (const [k, v] of Object.entries(s.labels ?? {})) a.push('--label', `${k}=${v}`);
  a.push(s.name);
  return a;
}

export const networkRmArgv = (name: string): string[] => [DOCKER, 'network', 'rm', name];
export const networkInspectArgv = (name: string): string[] => [DOCKER, 'network', 'inspect', name];
export const psByLabelArgv = (label: string): string[] => [DOCKER, 'ps', '--all', '--quiet', '--filter', `label=${label}`];
export const imageInspectArgv = (tag: string): string[] => [DOCKER, 'image', 'inspect', '--format', '{{.Id}} {{.Size}}', tag];
export const pauseArgv = (id: string): string[] => [DOCKER, 'pause', id];
export const unpauseArgv = (id: string): string[] => [DOCKER, 'unpause', id];
export const rmForceArgv = (ids: readonly string[]): string[] => [DOCKER, 'rm', '--force', '--volumes', ...ids];
export const logsArgv = (id: string): string[] => [DOCKER, 'logs', id];
export const infoArgv = (): string[] => [DOCKER, 'info', '--format', '{{.ServerVersion}}'];

/**
 * `docker import` of a rootfs tarball. The image has no CMD of its own: the lab
 * always gives one, and CHANGE keeps `docker run IMAGE` from silently doing nothing.
 */
export function importArgv(tarball: string, tag: string, labels: Record<string, string> = {}): string[] {
  const a = [DOCKER, 'image', 'import', '--change', 'CMD ["/bin/sh"]'];
  for (const [k, v] of Object.entries(labels)) a.push('--change', `LABEL ${k}=${JSON.stringify(v)}`);
  a.push(tarball, tag);
  return a;
}

/** Runs a docker command; `undefined` instead of a throw when it failed (absence probes). */
export async function dockerProbe(runner: Runner, argv: readonly string[], timeoutMs = 30_000): Promise<string | undefined> {
  try {
    return (await runner.run(argv, { timeoutMs, readOnly: true })).stdout;
  } catch (e) {
    if (e instanceof ToolError) return undefined;
    throw e;
  }
}

/** Both streams of `docker logs` (dnsmasq logs to stderr). */
export async function containerLogs(runner: Runner, id: string): Promise<string> {
  const r = await runner.run(logsArgv(id), { timeoutMs: 30_000, readOnly: true });
  return r.stdout + r.stderr;
}

export const stopArgv = (id: string, timeoutS = 1): string[] => [DOCKER, 'stop', '--time', String(timeoutS), id];
export const startArgv = (id: string): string[] => [DOCKER, 'start', id];
/** A command in a running container, argv as is (no shell); `stdin` keeps its standard input open. */
export const execArgv = (id: string, argv: readonly string[], o: { stdin?: boolean } = {}): string[] =>
  [DOCKER, 'exec', ...(o.stdin ? ['--interactive'] : []), id, ...argv];
export const stateArgv = (id: string): string[] => [DOCKER, 'inspect', '--format', '{{.State.Status}}', id];

/** A long-lived helper container on a lab network (`sleep infinity`), labelled so the network's disposal sweeps it. */
export const runHelperArgv = (o: { network: string; dns: string; name: string; image: string; ownerPid?: number }): string[] => [
  DOCKER, 'run', '--detach', '--network', o.network, '--dns', o.dns,
  '--label', `${LAB_LABEL}=${o.network}`, '--label', `${OWNER_PID_LABEL}=${o.ownerPid ?? process.pid}`,
  '--name', o.name, o.image, 'sleep', 'infinity',
];

/** A container's address on one network. */
export const containerIpArgv = (id: string, network: string): string[] =>
  [DOCKER, 'inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, id];
