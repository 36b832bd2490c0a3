// Parsers for what mco and RabbitMQ print, on their real output (captured from
// mcollective 2.12 and RabbitMQ 3.10 in the lab's deployment containers).
import { describe, expect, it } from 'vitest';
import { parseInventory, pingIdentities, refusedLogins } from './mco.js';

// RabbitMQ 3.10.8, a client at 10.97.151.5 with a wrong password, between two good logins (colours as logged).
const BROKER_LOG = [
  '2026-11-29 04:29:45.547265+00:00 [info] <0.703.0> closing STOMP connection <0.703.0> (10.97.151.5:42186 -> 10.97.151.4:61613)\x1b[0m',
  '2026-11-29 04:29:45.974074+00:00 [info] <0.733.0> accepting STOMP connection <0.733.0> (10.97.151.100:42202 -> 10.97.151.4:61613)\x1b[0m',
  '2026-11-29 04:29:45.974100+00:00 [info] <0.740.0> accepting STOMP connection <0.740.0> (10.97.151.5:42210 -> 10.97.151.4:61613)\x1b[0m',
  '\x1b[38;5;214m2026-11-29 04:29:45.975802+00:00 [warning] <0.733.0> STOMP login failed for user \'mcollective\': authentication failed\x1b[0m',
  '\x1b[38;5;160m2026-11-29 04:29:45.975896+00:00 [error] <0.733.0> STOMP error frame sent:\x1b[0m',
  '\x1b[38;5;160m2026-11-29 04:29:45.975896+00:00 [error] <0.733.0> Message: "Bad CONNECT"\x1b[0m',
  '\x1b[38;5;160m2026-11-29 04:29:45.975896+00:00 [error] <0.733.0> Detail: "Access refused for user \'mcollective\'\\n"\x1b[0m',
  '2026-11-29 04:29:45.979331+00:00 [info] <0.733.0> closing STOMP connection <0.733.0> (10.97.151.100:42202 -> 10.97.151.4:61613)\x1b[0m',
].join('\n');

describe('mco and broker output', () => {
  it('finds refused STOMP logins and the address each came from', () => {
    expect(refusedLogins(BROKER_LOG).map((r) => [r.user, r.from, r.at])).toEqual([['mcollective', '10.97.151.100', Date.parse('2026-11-29T04:29:45.975Z')]]);
    expect(refusedLogins(BROKER_LOG.split('\n').filter((l) => !l.includes('login failed')).join('\n'))).toEqual([]);
  });

  it('reads the identities mco ping heard', () => {
    // mco ping against a lab node with uid 1 (and, below, the same with a second answer appended).
    const out = '1                                        time=41.38 ms\n\n\n---- ping statistics ----\n1 replies max: 41.38 min: 41.38 avg: 41.38 \n';
    expect(pingIdentities(out)).toEqual(['1']);
    expect(pingIdentities(out.replace('\n\n\n', '\n17                                       time=60.01 ms\n\n\n'))).toEqual(['1', '17']);
    expect(pingIdentities('\n\n---- ping statistics ----\nNo responses received\n')).toEqual([]);
  });

  it('reads rpcutil inventory replies and refuses output that is not its JSON', () => {
    const json = '[{"agent":"rpcutil","action":"inventory","sender":"1","statuscode":0,"statusmsg":"OK","data":{"agents":["rpcutil","discovery"],"facts":{},"classes":[],"version":"2.12.5","main_collective":"mcollective","collectives":["mcollective"],"data_plugins":["agent_data","collective_data","fact_data","fstat_data"]}}]';
    expect(parseInventory(json)[0]).toMatchObject({ sender: '1', statuscode: 0, data: { agents: ['rpcutil', 'discovery'], version: '2.12.5' } });
    expect(() => parseInventory('The rpc application failed to run')).toThrow();
  });
});
