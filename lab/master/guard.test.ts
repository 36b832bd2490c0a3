// The containment guard's argv, parsing and sweep, without touching the firewall
// (lab/master/master-net.test.ts proves the rules against real traffic).
import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../agent/core/runner.js';
import { guardRuleArgv, guardRules, installGuard, parseGuardRules, splitRule, sweepStaleGuards } from './guard.js';

const T = { bridge: 'fmbr97x5', subnet: '10.97.5.0/24' };

describe('containment guard', () => {
  it('drops what is routed out of the bridge, counts what is addressed outside and what leaves', () => {
    const argv = guardRules(T).map((r) => guardRuleArgv('-I', r, T.bridge, 42).join(' '));
    expect(argv).toEqual([
      'iptables -w -t filter -I FORWARD 1 -i fmbr97x5 ! -o fmbr97x5 -j DROP -m comment --comment forge-guard:fmbr97x5:42:drop',
      'iptables -w -t raw -I PREROUTING 1 -i fmbr97x5 ! -d 10.97.5.0/24 -m addrtype ! --dst-type BROADCAST,MULTICAST -m comment --comment forge-guard:fmbr97x5:42:attempt',
      'iptables -w -t mangle -I POSTROUTING 1 -s 10.97.5.0/24 ! -o fmbr97x5 -m addrtype ! --dst-type LOCAL -m comment --comment forge-guard:fmbr97x5:42:leak',
      'ip6tables -w -t filter -I FORWARD 1 -i fmbr97x5 ! -o fmbr97x5 -j DROP -m comment --comment forge-guard:fmbr97x5:42:drop6',
    ]);
  });

  it('reads its rules and counters back from iptables -S -v, ignoring everyone else\'s', () => {
    const listing = [
      '-P FORWARD ACCEPT -c 10 600',
      '-A FORWARD -i docker0 -j ACCEPT -c 5 300',
      '-A FORWARD -i fmbr97x5 ! -o fmbr97x5 -m comment --comment "forge-guard:fmbr97x5:42:drop" -c 7 420 -j DROP',
      '-A FORWARD -m comment --comment "someone else" -c 1 1 -j ACCEPT',
    ].join('\n');
    expect(parseGuardRules(listing)).toEqual([{
      bridge: 'fmbr97x5', pid: 42, role: 'drop', packets: 7, bytes: 420,
      spec: ['-A', 'FORWARD', '-i', 'fmbr97x5', '!', '-o', 'fmbr97x5', '-m', 'comment', '--comment', 'forge-guard:fmbr97x5:42:drop', '-j', 'DROP'],
    }]);
    expect(splitRule('-A X -m comment --comment "a \\"b\\" c" -j ACCEPT')).toEqual(['-A', 'X', '-m', 'comment', '--comment', 'a "b" c', '-j', 'ACCEPT']);
  });

  it('sweeps only the rules of dead owners, deleting each as listed', async () => {
    const listing = (role: string, pid: number): string => `-A FORWARD -i b1 ! -o b1 -m comment --comment "forge-guard:b1:${pid}:${role}" -c 0 0 -j DROP\n`;
    const r = new RecordingRunner({
      respond: (argv) => (argv.includes('-S') && argv.includes('filter') && argv[0] === 'iptables' ? { stdout: listing('drop', 7) + listing('drop', 8) } : undefined),
    });
    expect(await sweepStaleGuards(r, undefined, (pid) => pid === 8)).toBe(1);
    expect(r.calls.filter((c) => c.includes('-D'))).toEqual([
      ['iptables', '-w', '-t', 'filter', '-D', 'FORWARD', '-i', 'b1', '!', '-o', 'b1', '-m', 'comment', '--comment', 'forge-guard:b1:7:drop', '-j', 'DROP'],
    ]);
  });

  it('refuses to start a lab it cannot guard, and leaves no half-installed rule', async () => {
    const r = new RecordingRunner({ respond: (argv) => (argv.includes('mangle') && argv.includes('-I') ? { exitCode: 1, stderr: 'no mangle' } : undefined) });
    await expect(installGuard(r, T)).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringMatching(/containment guard.*fmbr97x5/) });
    const inserted = r.calls.filter((c) => c.includes('-I')).length;
    const deleted = r.calls.filter((c) => c.includes('-D'));
    expect(inserted).toBe(3);
    expect(deleted.map((c) => c.at(-1))).toEqual([`forge-guard:fmbr97x5:${process.pid}:attempt`, `forge-guard:fmbr97x5:${process.pid}:drop`]);
  });
});
