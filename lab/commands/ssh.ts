// `lab ssh [--lab PID] <node> [-- CMD…]`: root on a kept node with the lab's key,
// the argv lab/deploy/ssh.ts builds for the deployment (key only, the lab's own
// known_hosts). Interactive: ssh gets this terminal (the runner's `interactive`).
import { parseArgs } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';
import { ANY_EXIT, ExecaRunner, type Runner } from '../../agent/core/runner.js';
import { sshArgv, type LabKey } from '../deploy/ssh.js';
import { findKeptNode, listKeptLabs, type KeptLab, type KeptNode } from '../kept-lab.js';
import { containerLogs } from '../master/docker-cli.js';
import { parseDhcpAcks } from '../master/master-net.js';

/** ssh argv for a login shell (no command) or a command, from the deployment's argv. */
export function interactiveSshArgv(key: LabKey, host: string, cmd: readonly string[]): string[] {
  const a = sshArgv(key, host, cmd);
  if (cmd.length) return a;
  // sshArgv always ends with `-- <command>`; without a command ssh opens a login shell.
  if (a.at(-2) !== '--' || a.at(-1) !== '') throw new ForgeError('LAB_FAILED', `unexpected ssh argv shape: ${a.join(' ')}`);
  return a.slice(0, -2);
}

/** The node's address: from the state file, else the last DHCPACK the master's dnsmasq logged for its MACs. */
export async function nodeAddress(runner: Runner, lab: KeptLab, node: KeptNode): Promise<string | undefined> {
  if (node.ip) return node.ip;
  if (!lab.master) return undefined;
  const log = await containerLogs(runner, `${lab.master.network}-dnsmasq`).catch(() => '');
  const macs = node.macs.map((m) => m.toLowerCase());
  return parseDhcpAcks(log).filter((a) => macs.includes(a.mac)).at(-1)?.ip;
}

export async function sshCommand(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { lab: { type: 'string' } } });
  const [name, ...cmd] = positionals;
  if (!name) throw new ForgeError('USAGE', 'usage: lab ssh [--lab PID] <node> [-- CMD…]', { field: 'node' });
  const { lab, node } = findKeptNode(listKeptLabs(), name, values.lab === undefined ? undefined : Number(values.lab));
  if (node.unreachable) throw new ForgeError('USAGE', `no ssh to ${name}: ${node.unreachable}; \`lab console ${name}\` reaches it`, { field: 'node' });
  if (!lab.sshKey) throw new ForgeError('LAB_FAILED', `kept lab ${lab.pid} has no ssh key`);
  const runner = new ExecaRunner();
  const host = await nodeAddress(runner, lab, node);
  if (!host) throw new ForgeError('LAB_FAILED', `no address known for ${name} (no DHCPACK for ${node.macs.join(', ')} yet); is it provisioned and up? \`lab console ${name}\``);
  // ssh's own exit code is the command's (255: ssh itself failed): passed on, not judged.
  const r = await runner.run(interactiveSshArgv(lab.sshKey, host, cmd), { interactive: true, okExitCodes: ANY_EXIT, signal });
  return r.exitCode;
}
