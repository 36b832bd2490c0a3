// Pure pieces of the master network: argv builders, address plan, log parsing.
import { describe, expect, it } from 'vitest';
import { RecordingRunner } from '../../agent/core/runner.js';
import { addressingFor, nextSubnet, subnetForName, subnetInUse } from './addressing.js';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { dnsmasqArgv, nginxConfig } from './containers.js';
import { importArgv, networkCreateArgv } from './docker-cli.js';
import { startDockerdArgv } from './docker-daemon.js';
import { addTap, tapAddArgv } from './ip-link.js';
import { allowBridgeForwarding, parseForwardPolicy } from './iptables.js';
import { parseDhcpAcks } from './master-net.js';
import { deadOwners, parseLinkNames } from './stale.js';
import { tarCreateArgv } from './tar.js';

describe('address plan', () => {
  it('puts the host at .1, dnsmasq at .2, nginx at .3, the broker at .4, the deployment container at .5, docker and DHCP pools apart', () => {
    expect(addressingFor('10.97.5.0/24')).toEqual({
      subnet: '10.97.5.0/24', octet: 5, netmask: '255.255.255.0',
      gatewayIp: '10.97.5.1', dnsmasqIp: '10.97.5.2', imagesIp: '10.97.5.3', brokerIp: '10.97.5.4', deployIp: '10.97.5.5',
      dockerIpRange: '10.97.5.32/27', dhcpRange: { start: '10.97.5.100', end: '10.97.5.199' },
      bridge: 'fmbr97x5',
    });
    expect(addressingFor('10.255.255.0/24').bridge.length).toBeLessThanOrEqual(15);
  });

  it('rejects anything but a /24, naming the field', () => {
    expect(() => addressingFor('10.97.5.0/16')).toThrow(expect.objectContaining({ code: 'USAGE', field: 'subnet' }));
    expect(() => addressingFor('10.97.300.0/24')).toThrow(expect.objectContaining({ field: 'subnet' }));
  });

  it('derives a stable /24 from the name and steps past routed ones', () => {
    expect(subnetForName('lab-a')).toBe(subnetForName('lab-a'));
    expect(subnetForName('lab-a')).toMatch(/^10\.97\.\d{1,3}\.0\/24$/);
    expect(nextSubnet('10.97.255.0/24')).toBe('10.97.0.0/24');
    const routes = 'default via 10.0.0.1 dev eth0\n10.97.7.0/24 dev fmbr97x7 proto kernel scope link src 10.97.7.1\n172.16.0.0/12 dev x\n';
    expect(subnetInUse('10.97.7.0/24', routes)).toBe(true);
    expect(subnetInUse('10.97.8.0/24', routes)).toBe(false);
    expect(subnetInUse('172.20.1.0/24', routes)).toBe(true);
  });
});

describe('argv builders', () => {
  it('docker network create: IPAM, bridge name, no masquerade, label', () => {
    expect(networkCreateArgv({
      name: 'n', bridge: 'fmbr97x5', subnet: '10.97.5.0/24', gateway: '10.97.5.1', ipRange: '10.97.5.32/27', labels: { 'fuel-forge.lab': 'n' },
    })).toEqual([
      'docker', 'network', 'create', '--driver', 'bridge', '--subnet', '10.97.5.0/24', '--gateway', '10.97.5.1',
      '--ip-range', '10.97.5.32/27', '--opt', 'com.docker.network.bridge.name=fmbr97x5',
      '--opt', 'com.docker.network.bridge.enable_ip_masquerade=false', '--label', 'fuel-forge.lab=n', 'n',
    ]);
  });

  it('dnsmasq: no DNS, DHCP range + router, fixed hosts, boot.ipxe over its own TFTP', () => {
    const a = dnsmasqArgv({
      rangeStart: '10.97.5.100', rangeEnd: '10.97.5.199', netmask: '255.255.255.0', router: '10.97.5.1',
      bootFile: 'boot.ipxe', hosts: [{ mac: '52:54:00:f0:01:00', ip: '10.97.5.10', hostname: 'node-1' }],
    });
    expect(a[0]).toBe('/usr/sbin/dnsmasq');
    expect(a).toEqual(expect.arrayContaining([
      '--no-daemon', '--port=0', '--log-dhcp', '--log-facility=-',
      '--dhcp-range=10.97.5.100,10.97.5.199,255.255.255.0,1h', '--dhcp-option=option:router,10.97.5.1',
      '--dhcp-host=52:54:00:f0:01:00,10.97.5.10,node-1', '--dhcp-boot=boot.ipxe', '--enable-tftp', '--tftp-root=/tftp',
      // iPXE's encapsulated options: sub-option 176 (no-pxedhcp), one byte, 1.
      '--dhcp-option=175,b0:01:01',
    ]));
    expect(a.join(' ')).not.toContain('dns-server');
  });

  it('dnsmasq as the lab DNS: its own domain and records, nothing forwarded', () => {
    const a = dnsmasqArgv({
      rangeStart: '10.97.5.100', rangeEnd: '10.97.5.199', netmask: '255.255.255.0', router: '10.97.5.1', bootFile: 'boot.ipxe',
      dns: { domain: 'domain.tld', records: [{ name: 'fuel.domain.tld', ip: '10.97.5.1' }] },
    });
    expect(a).toEqual(expect.arrayContaining([
      '--port=53', '--no-resolv', '--no-hosts', '--domain=domain.tld', '--local=/domain.tld/', '--host-record=fuel.domain.tld,10.97.5.1',
    ]));
    expect(a).not.toContain('--port=0');
    expect(a.some((x) => x.startsWith('--server'))).toBe(false);
  });

  it('nginx config serves /targetimages/ from the bind mount in the foreground', () => {
    const c = nginxConfig();
    expect(c).toContain('daemon off;');
    expect(c).toContain('location /targetimages/ { alias /srv/targetimages/;');
  });

  it('dockerd is started detached, once, with its log in the cache', () => {
    expect(startDockerdArgv('/c/master/dockerd.log')).toEqual([
      'start-stop-daemon', '--start', '--oknodo', '--background', '--output', '/c/master/dockerd.log',
      '--exec', '/usr/sbin/dockerd', '--', '--iptables=false', '--ip-forward=false', '--storage-driver=vfs',
    ]);
  });

  it('image import and rootfs tar', () => {
    expect(importArgv('/c/r.tar', 'fuel-forge/master:k', { a: 'b' })).toEqual([
      'docker', 'image', 'import', '--change', 'CMD ["/bin/sh"]', '--change', 'LABEL a="b"', '/c/r.tar', 'fuel-forge/master:k',
    ]);
    expect(tarCreateArgv('/r', '/o.tar')).toEqual(['tar', '--create', '--numeric-owner', '--xattrs', '--file=/o.tar', '--directory=/r', '.']);
  });

  it('a tap is created, enslaved and brought up; a half-made one is deleted', async () => {
    const ok = new RecordingRunner({ respond: (argv) => (argv.includes('show') ? { exitCode: 1 } : undefined) });
    await addTap(ok, 'fmt5-0', 'fmbr97x5');
    // The first call is the `ip link show` probe (absent).
    expect(ok.calls.slice(1)).toEqual([tapAddArgv('fmt5-0'),
      ['ip', 'link', 'set', 'dev', 'fmt5-0', 'master', 'fmbr97x5'], ['ip', 'link', 'set', 'dev', 'fmt5-0', 'up']]);
    const failing = new RecordingRunner({
      respond: (argv) => (argv.includes('show') || argv.includes('master') ? { exitCode: 1 } : undefined),
    });
    await expect(addTap(failing, 'fmt5-1', 'nobr')).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(failing.calls.at(-1)).toEqual(['ip', 'link', 'del', 'dev', 'fmt5-1']);
  });

  it('an ACCEPT rule only when FORWARD would drop bridged frames, removed by its release', async () => {
    expect(parseForwardPolicy('-P FORWARD DROP\n-A FORWARD -j DOCKER-USER\n')).toBe('DROP');
    const accept = new RecordingRunner({ respond: () => ({ stdout: '-P FORWARD ACCEPT\n' }) });
    expect(await allowBridgeForwarding(accept, 'br0')).toBeUndefined();
    expect(accept.calls).toHaveLength(1);
    const drop = new RecordingRunner({ respond: () => ({ stdout: '-P FORWARD DROP\n' }) });
    const release = await allowBridgeForwarding(drop, 'br0');
    await release?.();
    expect(drop.calls.slice(1)).toEqual([
      ['iptables', '-I', 'FORWARD', '-i', 'br0', '-o', 'br0', '-j', 'ACCEPT'],
      ['iptables', '-D', 'FORWARD', '-i', 'br0', '-o', 'br0', '-j', 'ACCEPT'],
    ]);
  });
});

describe('dnsmasq log and cleanup stack', () => {
  it('parses DHCPACKs with their MACs', () => {
    const log = [
      'Nov 25 19:40:01 dnsmasq-dhcp[1]: 1234 DHCPDISCOVER(eth0) 52:54:00:f0:29:00',
      'Nov 25 19:40:01 dnsmasq-dhcp[1]: 1234 DHCPACK(eth0) 10.97.5.150 52:54:00:F0:29:00',
      'Nov 25 19:40:02 dnsmasq-dhcp[1]: 1235 DHCPACK(eth0) 10.97.5.151 52:54:00:f0:2a:00 node-2',
    ].join('\n');
    expect(parseDhcpAcks(log).map(({ ip, mac }) => ({ ip, mac }))).toEqual([
      { ip: '10.97.5.150', mac: '52:54:00:f0:29:00' },
      { ip: '10.97.5.151', mac: '52:54:00:f0:2a:00' },
    ]);
  });

  it('releases in reverse order, runs every release even when one fails, once', async () => {
    const order: string[] = [];
    const s = new CleanupStack({ code: 'LAB_FAILED' });
    s.defer('a', async () => { order.push('a'); });
    s.defer('b', async () => { order.push('b'); throw new Error('boom'); });
    s.defer('c', async () => { order.push('c'); });
    await expect(s.dispose()).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringMatching(/b: boom/) });
    await s.dispose();
    expect(order).toEqual(['c', 'b', 'a']);
  });
});

describe('stale sweep parsing', () => {
  it('picks networks whose owner pid is dead, never unlabelled ones', () => {
    const listing = 'forge-master-1-0 111\nforge-master-2-0 222\nsomeone-else \n';
    expect(deadOwners(listing, (pid) => pid === 222)).toEqual(['forge-master-1-0']);
  });

  it('reads interface names from ip -o link show master', () => {
    const out = '40: fmt5-0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel master fmbr97x5 state DOWN\n'
      + '42: veth1a2b@if41: <BROADCAST> mtu 1500 master fmbr97x5\n';
    expect(parseLinkNames(out)).toEqual(['fmt5-0', 'veth1a2b']);
  });
});
