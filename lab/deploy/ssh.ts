// The master's SSH client side: one ed25519 key per lab (its public half goes
// into every node's ks_meta.authorized_keys), and ssh argv that logs in as root
// with that key only — no agent, no password, no user config — so a refusal means
// the node does not hold the key.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANY_EXIT, type Runner, type RunResult } from '../../agent/core/runner.js';

export interface LabKey {
  /** Private key file (0600). */
  path: string;
  /** `ssh-ed25519 AAAA… comment`, as it goes into authorized_keys. */
  publicKey: string;
  /** The lab's own known_hosts: nodes' host keys are new on every provisioning. */
  knownHosts: string;
}

export async function createLabKey(runner: Runner, dir: string): Promise<LabKey> {
  const path = join(dir, 'id_ed25519');
  await runner.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'fuel-forge-lab-master', '-f', path], { timeoutMs: 30_000 });
  return { path, publicKey: readFileSync(`${path}.pub`, 'utf8').trim(), knownHosts: join(dir, 'known_hosts') };
}

/**
 * One argv element for the remote shell: ssh joins its arguments into one command
 * line that the node's shell splits again, so each is single-quoted (a quote
 * inside becomes '\'' ) and reaches the remote program unchanged.
 */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function sshArgv(key: LabKey, host: string, argv: readonly string[], o: { connectTimeoutS?: number } = {}): string[] {
  return [
    'ssh',
    '-F', '/dev/null',
    '-i', key.path,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'BatchMode=yes',
    '-o', 'PreferredAuthentications=publickey',
    '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no',
    // A re-provisioned node has new host keys: trust on first use, in the lab's own file.
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${key.knownHosts}`,
    '-o', `ConnectTimeout=${o.connectTimeoutS ?? 10}`,
    '-o', 'LogLevel=ERROR',
    `root@${host}`,
    '--',
    argv.map(shellQuote).join(' '),
  ];
}

/**
 * Trust on first use, per provisioning: a node gets new host keys every time it is
 * provisioned, and a powered-off node's address goes to the next node, so the key
 * the lab saw at that address before means nothing now. Every later call of this
 * deployment must then match the key seen first.
 */
export async function forgetHostKey(runner: Runner, key: LabKey, host: string): Promise<void> {
  // Exit 255 when the file does not exist yet: nothing to forget.
  await runner.run(['ssh-keygen', '-R', host, '-f', key.knownHosts], { timeoutMs: 30_000, okExitCodes: ANY_EXIT });
}

export type SshFailure = 'key-refused' | 'unreachable' | 'host-key-changed' | 'other';

/** Why ssh itself failed (exit 255), from its stderr. */
export function classifySshFailure(stderr: string): SshFailure {
  if (/Permission denied \(/.test(stderr)) return 'key-refused';
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/.test(stderr)) return 'host-key-changed';
  if (/Connection refused|timed out|No route to host|Network is unreachable|Connection closed|Connection reset/i.test(stderr)) return 'unreachable';
  return 'other';
}

/** Runs argv on the node as root; the exit code is the caller's to read (255 = ssh failed). */
export function sshRun(runner: Runner, key: LabKey, host: string, argv: readonly string[], o: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
  return runner.run(sshArgv(key, host, argv), {
    timeoutMs: o.timeoutMs ?? 120_000,
    okExitCodes: ANY_EXIT,
    ...(o.input === undefined ? {} : { input: o.input }),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
