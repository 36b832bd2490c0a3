import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../agent/core/runner.js';
import type { KeptLab, KeptNode } from '../kept-lab.js';
import { interactiveSshArgv, nodeAddress } from './ssh.js';

const key = { path: '/lab/id_ed25519', publicKey: 'ssh-ed25519 AAAA test', knownHosts: '/lab/known_hosts' };

describe('lab ssh', () => {
  it('logs in with the lab key only; no command means a login shell, a command keeps its argv quoted', () => {
    const login = interactiveSshArgv(key, '10.97.5.100', []);
    expect(login.at(-1)).toBe('root@10.97.5.100');
    expect(login).not.toContain('--');
    expect(login.slice(0, 5)).toEqual(['ssh', '-F', '/dev/null', '-i', '/lab/id_ed25519']);
    expect(login).toContain('IdentitiesOnly=yes');
    expect(login).toContain('UserKnownHostsFile=/lab/known_hosts');
    expect(interactiveSshArgv(key, '10.97.5.100', ['echo', 'a b']).slice(-3)).toEqual(['root@10.97.5.100', '--', "echo 'a b'"]);
  });

  it("takes the node's address from the state, else the master's last DHCPACK for its MAC", async () => {
    const node: KeptNode = {
      name: 'node-1', macs: ['52:54:00:F0:01:00'], vmDir: '/v', serialLog: '/v/serial.log', consoleSocket: '/v/c', controlSocket: '/v/q', disks: [],
    };
    const lab: KeptLab = { version: 1, pid: 5, kind: 'demo', startedAt: 'now', master: { network: 'forge-master-5-0', bridge: 'fmbr97x5', subnet: '10.97.5.0/24' }, nodes: [node] };
    const runner = new RecordingRunner({
      respond: (argv) => (argv.join(' ') === 'docker logs forge-master-5-0-dnsmasq'
        ? { stderr: [
          'dnsmasq-dhcp[1]: DHCPACK(eth0) 10.97.5.100 52:54:00:f0:01:00',
          'dnsmasq-dhcp[1]: DHCPACK(eth0) 10.97.5.101 52:54:00:f0:02:00',
          'dnsmasq-dhcp[1]: DHCPACK(eth0) 10.97.5.102 52:54:00:f0:01:00 node-1',
        ].join('\n') }
        : undefined),
    });
    expect(await nodeAddress(runner, lab, { ...node, ip: '10.97.5.7' })).toBe('10.97.5.7');
    expect(await nodeAddress(runner, lab, node)).toBe('10.97.5.102');
    const { master: _, ...replayLab } = lab;
    expect(await nodeAddress(runner, replayLab, node)).toBeUndefined();
  });
});
