// Reading what mcollective and its broker say (pure, unit tested on their real
// output): the identities `mco ping` heard from, `mco rpc rpcutil inventory -j`
// replies, and RabbitMQ's record of STOMP logins it refused, by source address.
import { z } from 'zod';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import { MCO_CLIENT_CFG } from '../master/deploy-services.js';

export const mcoPingArgv = (): string[] => ['mco', 'ping', '--config', MCO_CLIENT_CFG];

export const mcoInventoryArgv = (identity: string): string[] =>
  ['mco', 'rpc', 'rpcutil', 'inventory', '--config', MCO_CLIENT_CFG, '-I', identity, '--json'];

// mco colours its output even without a terminal.
const stripAnsi = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Identities in `mco ping` output (`<identity>  time=12.34 ms` lines). */
export function pingIdentities(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stripAnsi(stdout).split('\n')) {
    const m = /^(\S+)\s+time=[\d.]+\s*ms\s*$/.exec(line.trim());
    if (m?.[1]) out.push(m[1]);
  }
  return out;
}

const inventoryReplies = z.array(z.looseObject({
  sender: z.string(),
  statuscode: z.number(),
  data: z.looseObject({ agents: z.array(z.string()).optional(), version: z.string().optional(), collectives: z.array(z.string()).optional() }),
}));
export type InventoryReply = z.output<typeof inventoryReplies>[number];

export function parseInventory(stdout: string): InventoryReply[] {
  return parseJsonAs(inventoryReplies, stripAnsi(stdout).trim(), { source: 'mco rpc rpcutil inventory --json', code: 'LAB_FAILED' });
}

export interface RefusedLogin {
  user: string;
  from: string;
  /** When RabbitMQ logged it (ms since the epoch), if the line has its timestamp. */
  at: number | undefined;
  line: string;
}

/** RabbitMQ's `2026-11-29 04:29:45.975802+00:00` as ms since the epoch. */
function logTime(line: string): number | undefined {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,3})?\d*([+-]\d\d:\d\d|Z)/.exec(line);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}T${m[2]}${m[3] ?? ''}${m[4]}`);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * STOMP logins RabbitMQ refused, with the client address: the log names the
 * connection's Erlang pid when it accepts it (`accepting STOMP connection <0.733.0>
 * (10.97.3.100:42202 -> …)`) and again on `STOMP login failed for user 'x'`.
 */
export function refusedLogins(log: string): RefusedLogin[] {
  const from = new Map<string, string>();
  const out: RefusedLogin[] = [];
  for (const raw of stripAnsi(log).split('\n')) {
    const accept = /(<[\d.]+>) accepting STOMP connection <[\d.]+> \(([\d.]+):\d+ ->/.exec(raw);
    if (accept?.[1] && accept[2]) from.set(accept[1], accept[2]);
    const refused = /(<[\d.]+>) STOMP login failed for user '([^']*)'/.exec(raw);
    if (refused?.[1] && refused[2] !== undefined) {
      const line = stripAnsi(raw).trim();
      out.push({ user: refused[2], from: from.get(refused[1]) ?? '?', at: logTime(line), line });
    }
  }
  return out;
}
