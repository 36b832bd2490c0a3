// What Fuel's master did once a node was provisioned (Astute's deployment start),
// and the lab's final verification: the node is "ready" only when
//   ssh          the master logs in as root with its own key (network + keys),
//   mcollective  `mco ping` through the broker hears the node under its Fuel
//                identity (the uid) and one rpcutil call answers from it,
//   deployment   the first deployment step ran: the node's deployment facts put in
//                place, puppet code rsynced from the master and applied, and its
//                changes read back (deployed.yaml with uid and role, a service
//                enabled and running).
// Each failure names its cause (authorized_keys, mco_password, …); the node is then
// reported to Nailgun as `error`, else as `ready`.
import { parse as parseYaml } from 'yaml';
import { ForgeError, isForgeError } from '../../agent/core/errors.js';
import type { Runner } from '../../agent/core/runner.js';
import type { DeployServices } from '../master/deploy-services.js';
import type { MockNode, StartedNailgun } from '../mocks/nailgun.js';
import { putNode } from '../orchestrator.js';
import type { Stages } from '../stages.js';
import type { Check } from '../verify/first-boot.js';
import { bootDiskSerials, grubPcDevicesCheck } from '../verify/grub-pc.js';
import { mcoInventoryArgv, mcoPingArgv, parseInventory, pingIdentities, refusedLogins } from './mco.js';
import { classifySshFailure, forgetHostKey, sshRun, type LabKey } from './ssh.js';

export interface DeployEnv {
  runner: Runner;
  key: LabKey;
  services: DeployServices;
  /** The node's address on the admin network (its latest DHCP lease). */
  nodeIp(mac: string): Promise<string | undefined>;
}

export interface DeployTimeouts {
  ssh: number;
  /** Until `mco ping` hears the node: covers a broker that comes back late. */
  mcollective: number;
  puppet: number;
}

export const DEFAULT_DEPLOY_TIMEOUTS: DeployTimeouts = { ssh: 90_000, mcollective: 180_000, puppet: 10 * 60_000 };

export interface DeployTarget {
  name: string;
  macs: string[];
  /** Fuel's role for the deployment step (e.g. compute, ceph-osd). */
  role: string;
}

export interface DeployOutcome {
  checks: Check[];
  ready: boolean;
  /** One line per failed check, naming its cause (what Nailgun's error_msg gets). */
  causes: string[];
  /** The node's mcollective log, read over SSH: connection attempts that failed before it connected. */
  mcoFailedAttempts: number | undefined;
}

export interface DeployContext {
  nailgun: StartedNailgun;
  stages: Stages;
  deploy: DeployEnv;
  timeouts?: Partial<DeployTimeouts>;
}

const PUPPET_DIR = '/etc/puppet/fuel-forge';
export const FACTS_FILE = '/etc/facter/facts.d/fuel.yaml';
export const DEPLOYED_FILE = '/etc/fuel-forge/deployed.yaml';
export const ROLE_UNIT = 'fuel-forge-role.service';
/** Debian's facter reads /etc/facter/facter.conf (upstream: /etc/puppetlabs/facter/). */
export const FACTER_CONF = '/etc/facter/facter.conf';
/**
 * Facter asks 169.254.169.254 for EC2 metadata on any KVM/Xen guest (facts EC2 and
 * cloud.provider), through the default gateway. A Fuel admin network has no metadata
 * service: the query only waits for a timeout and sends packets out of the network.
 */
export const FACTER_CONF_TEXT = '# written by the deployment: no cloud metadata service on a Fuel admin network\nfacts : {\n  blocklist : [ "EC2", "cloud" ]\n}\n';

const lastLines = (s: string, n = 3): string => s.split('\n').map((l) => l.trim()).filter(Boolean).slice(-n).join(' | ');

/** Runs one deployment phase as a timed stage; a thrown error becomes the failure's text. */
async function phase<T>(ctx: DeployContext, name: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | Error> {
  try {
    return await ctx.stages.run(name, timeoutMs, fn);
  } catch (e) {
    return e instanceof Error ? e : new ForgeError('LAB_FAILED', String(e));
  }
}

async function checkSsh(ctx: DeployContext, t: DeployTarget, ip: string, timeoutMs: number): Promise<Check> {
  const { runner, key } = ctx.deploy;
  const r = await phase(ctx, `${t.name}: ssh root@${ip}`, timeoutMs, async (signal) => {
    await forgetHostKey(runner, key, ip);
    // sshd may still be starting when the call-back arrives: retry only what a wait can fix.
    for (;;) {
      const x = await sshRun(runner, key, ip, ['hostname', '--fqdn'], { timeoutMs: 30_000, signal });
      if (x.exitCode === 0 || classifySshFailure(x.stderr) !== 'unreachable') return x;
      await new Promise((res) => setTimeout(res, 3000));
    }
  });
  if (r instanceof Error) return { name: 'ssh: root login with the master key', ok: false, detail: `ssh to ${ip}: ${r.message.split('\n')[0]}` };
  if (r.exitCode === 0) return { name: 'ssh: root login with the master key', ok: true, detail: `root@${ip} is ${r.stdout.trim()}` };
  const why = classifySshFailure(r.stderr);
  const detail = why === 'key-refused'
    ? `the node refused the master's key (${lastLines(r.stderr, 1)}): its root authorized_keys do not hold it — check ks_meta.authorized_keys`
    : `ssh root@${ip} failed (${why}, exit ${r.exitCode}): ${lastLines(r.stderr)}`;
  return { name: 'ssh: root login with the master key', ok: false, detail };
}

/**
 * `since`: when the node last booted into the bootstrap. Its address may have been
 * another node's before (a powered-off node's lease is handed on), and the broker's
 * log keeps that node's refused logins.
 */
async function checkMcollective(ctx: DeployContext, uid: string, t: DeployTarget, ip: string, since: number, timeoutMs: number): Promise<Check> {
  const s = ctx.deploy.services;
  const name = `mcollective: the node answers as ${uid} (mco ping, rpcutil inventory)`;
  const r = await phase(ctx, `${t.name}: mco ping ${uid}`, timeoutMs, async (signal) => {
    for (;;) {
      if (signal.aborted) throw new ForgeError('ABORTED', `mco ping never heard ${uid}`);
      const ping = await s.exec(mcoPingArgv(), { timeoutMs: 60_000 });
      const heard = pingIdentities(ping.stdout);
      if (heard.includes(uid)) return heard;
      // The broker refused this node's login: retrying cannot help, name the setting.
      const refused = refusedLogins(await s.brokerLog()).filter((x) => x.from === ip && (x.at === undefined || x.at >= since));
      if (refused.length) {
        throw new ForgeError('LAB_FAILED', `the broker refused the node's STOMP login as '${refused[0]?.user ?? '?'}' ${refused.length} time(s) (from ${ip}): ks_meta.mco_password (or mco_user) does not match the broker's`, { field: 'ks_meta.mco_password' });
      }
      await new Promise((res) => setTimeout(res, 5000));
    }
  });
  if (r instanceof Error) {
    // A timeout says only "not heard": say what the broker saw (no refusal).
    const detail = isForgeError(r) && r.code === 'LAB_TIMEOUT'
      ? `mco ping did not hear ${uid} within ${timeoutMs / 1000} s, and the broker refused no login from ${ip} (is mcollective running on the node, ks_meta.mco_host right?)`
      : r.message.split('\n')[0] ?? r.message;
    return { name, ok: false, detail };
  }
  const inv = await s.exec(mcoInventoryArgv(uid), { timeoutMs: 60_000 });
  let replies;
  try {
    replies = parseInventory(inv.stdout);
  } catch (e) {
    return { name, ok: false, detail: `mco ping heard ${r.join(' ')}, but rpcutil inventory gave no JSON (exit ${inv.exitCode}): ${(e as Error).message.split('\n')[0]}` };
  }
  const mine = replies.find((x) => x.sender === uid);
  const ok = mine !== undefined && mine.statuscode === 0 && (mine.data.agents ?? []).includes('rpcutil');
  return {
    name,
    ok,
    detail: mine
      ? `mco ping heard [${r.join(' ')}]; rpcutil inventory from ${mine.sender}: mcollective ${mine.data.version ?? '?'}, agents ${(mine.data.agents ?? []).join(',')}`
      : `mco ping heard [${r.join(' ')}], but rpcutil inventory had no reply from ${uid} (replies from ${replies.map((x) => x.sender).join(',') || 'none'})`,
  };
}

/** The first deployment step over SSH: facts, puppet code from the master, puppet apply, read back. */
async function runDeployment(ctx: DeployContext, uid: string, t: DeployTarget, ip: string, timeoutMs: number): Promise<Check> {
  const { runner, key, services } = ctx.deploy;
  const name = `deployment: puppet from the master applied (uid ${uid}, role ${t.role})`;
  const r = await phase(ctx, `${t.name}: deployment (puppet apply)`, timeoutMs, async (signal) => {
    const on = async (argv: string[], input?: string): Promise<string> => {
      const x = await sshRun(runner, key, ip, argv, { timeoutMs, signal, ...(input === undefined ? {} : { input }) });
      // puppet apply --detailed-exitcodes: 2 = changes applied.
      if (x.exitCode !== 0 && !(argv[0] === 'puppet' && x.exitCode === 2)) {
        throw new ForgeError('TOOL_FAILED', `${argv.join(' ')} on the node: exit ${x.exitCode}: ${lastLines(x.stderr || x.stdout)}`, { command: argv });
      }
      return x.stdout;
    };
    // Fuel's deployment info for the node (its /etc/astute.yaml), as facts puppet reads.
    await on(['install', '-d', '-m', '0755', '/etc/facter/facts.d']);
    await on(['tee', FACTS_FILE], `fuel_uid: ${JSON.stringify(uid)}\nfuel_role: ${JSON.stringify(t.role)}\n`);
    await on(['tee', FACTER_CONF], FACTER_CONF_TEXT);
    await on(['rsync', '-a', '--delete', services.puppetUrl, `${PUPPET_DIR}/`]);
    const started = Date.now();
    await on(['puppet', 'apply', '--detailed-exitcodes', '--color=false', `--modulepath=${PUPPET_DIR}/modules`, `${PUPPET_DIR}/manifests/site.pp`]);
    const applyS = ((Date.now() - started) / 1000).toFixed(1);
    const deployed = parseYaml(await on(['cat', DEPLOYED_FILE])) as Record<string, unknown> | null;
    const enabled = (await sshRun(runner, key, ip, ['systemctl', 'is-enabled', ROLE_UNIT])).stdout.trim();
    const active = (await sshRun(runner, key, ip, ['systemctl', 'is-active', ROLE_UNIT])).stdout.trim();
    return { deployed, enabled, active, applyS };
  });
  if (r instanceof Error) return { name, ok: false, detail: r.message.split('\n')[0] ?? r.message };
  const ok = r.deployed?.['uid'] === uid && r.deployed['role'] === t.role && r.enabled === 'enabled' && r.active === 'active';
  return { name, ok, detail: `puppet apply ${r.applyS} s; ${DEPLOYED_FILE}: uid=${String(r.deployed?.['uid'])} role=${String(r.deployed?.['role'])}; ${ROLE_UNIT} ${r.enabled}, ${r.active}` };
}

/**
 * Failed connection attempts to the lab's broker the node's mcollective logged (its
 * own log, read over SSH): `TCP Connection to stomp://<user>@<broker>:61613 failed on
 * attempt N`. Only the broker's address counts: before cloud-init's config lands the
 * image's default server.cfg points at a host `stomp1`.
 */
export async function mcoFailedAttempts(d: DeployEnv, ip: string): Promise<number | undefined> {
  const x = await sshRun(d.runner, d.key, ip, ['cat', '/var/log/mcollective.log'], { timeoutMs: 30_000 });
  if (x.exitCode !== 0) return undefined;
  const broker = `@${d.services.brokerIp}:`;
  return x.stdout.split('\n').filter((l) => l.includes(broker) && /Connection to \S+ failed on attempt/.test(l)).length;
}

/**
 * Where an upgrade of grub-pc would reinstall GRUB, asked of the booted node over ssh
 * (lab/verify/grub-pc.ts). `serials`: the plan's BIOS boot disks as the bootstrap's
 * inventory reported them; no check when there are none or the node has no address.
 */
export async function grubPcOnNode(
  d: DeployEnv,
  mac: string,
  bootDisks: readonly string[],
  inventory: { disks: readonly { path: string; serial?: string }[] } | undefined,
): Promise<{ serials: string[]; check?: Check }> {
  const serials = bootDiskSerials(bootDisks, inventory);
  const ip = await d.nodeIp(mac);
  if (!serials.length || !ip) return { serials };
  return { serials, check: await grubPcDevicesCheck((argv) => sshRun(d.runner, d.key, ip, argv, { timeoutMs: 60_000 }), serials) };
}

/** ssh, then mcollective, then the deployment step; Nailgun hears `ready` only when all three passed. */
export async function deployNode(ctx: DeployContext, t: DeployTarget, node: MockNode): Promise<DeployOutcome> {
  const to = { ...DEFAULT_DEPLOY_TIMEOUTS, ...ctx.timeouts };
  const uid = String(node.id);
  const mac = t.macs[0] as string;
  const ip = await ctx.deploy.nodeIp(mac);
  const checks: Check[] = [];
  if (!ip) {
    checks.push({ name: 'ssh: root login with the master key', ok: false, detail: `no DHCP lease for ${mac}: the node never asked for an address` });
  } else {
    const ssh = await checkSsh(ctx, t, ip, to.ssh);
    checks.push(ssh);
    checks.push(await checkMcollective(ctx, uid, t, ip, node.discoveredAt, to.mcollective));
    checks.push(ssh.ok
      ? await runDeployment(ctx, uid, t, ip, to.puppet)
      : { name: `deployment: puppet from the master applied (uid ${uid}, role ${t.role})`, ok: false, detail: 'not started: the master cannot log in (ssh failed)' });
  }
  const failed = checks.filter((c) => !c.ok);
  const causes = failed.map((c) => `${c.name.split(':')[0]}: ${c.detail}`);
  const attempts = ip && checks[0]?.ok ? await mcoFailedAttempts(ctx.deploy, ip) : undefined;
  await putNode(ctx.nailgun, node.id, failed.length
    ? { status: 'error', error_type: 'deploy', error_msg: causes.join('; ').slice(0, 1000) }
    : { status: 'ready', progress: 100, error_type: null, error_msg: null });
  return { checks, ready: failed.length === 0, causes, mcoFailedAttempts: attempts };
}
