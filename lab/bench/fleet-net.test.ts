import { describe, expect, it } from 'vitest';
import { parseFleetArgs } from './fleet-args.js';
import { bridgeOwner, fleetNames, masterIpOf, nodeIpOf, nodeMacOf, nsOwner, prefixInUse } from './fleet-net.js';
import { ownerTag, tagPid } from './fleet-owner.js';

describe('fleet address plan', () => {
  it('puts the master at .0.1 and numbers nodes after it across the /16', () => {
    expect(masterIpOf()).toBe('10.231.0.1');
    expect(nodeIpOf(0)).toBe('10.231.0.2');
    expect(nodeIpOf(253)).toBe('10.231.0.255');
    expect(nodeIpOf(254)).toBe('10.231.1.0');
    expect(nodeIpOf(999)).toBe('10.231.3.233');
    expect(() => nodeIpOf(0xfffd)).toThrow(/out of range/);
  });

  it('gives unique, locally administered unicast MACs', () => {
    expect(nodeMacOf(0)).toBe('02:f1:ee:00:00:00');
    expect(nodeMacOf(300)).toBe('02:f1:ee:00:01:2c');
    expect(new Set(Array.from({ length: 4000 }, (_, i) => nodeMacOf(i))).size).toBe(4000);
  });

  it('names fit IFNAMSIZ and carry the owner, even for the largest pid', () => {
    const n = fleetNames(4194304, 3999);
    expect(n.hostVeth.length).toBeLessThanOrEqual(15);
    expect(tagPid(nsOwner(n.ns) as string)).toBe(4194304);
    expect(tagPid(bridgeOwner(n.bridge) as string)).toBe(4194304);
    expect(ownerTag(4194304)).toBe('2hwcg');
    expect(nsOwner('forge-probe-123')).toBeUndefined();
    expect(bridgeOwner('fmbr97x3')).toBeUndefined();
  });

  it('refuses a host that already routes any part of 10.231.0.0/16, or a network containing it', () => {
    const base = 'default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2';
    expect(prefixInUse(base)).toBe(false);
    expect(prefixInUse(`${base}\n10.231.7.0/24 dev br0`)).toBe(true);
    expect(prefixInUse(`${base}\n10.224.0.0/12 via 192.0.2.9`)).toBe(true);
    expect(prefixInUse(`${base}\n10.0.0.0/8 via 192.0.2.9`)).toBe(true);
    expect(prefixInUse(`${base}\n10.232.0.0/16 dev br1`)).toBe(false);
    expect(prefixInUse(`${base}\n10.231.0.9 dev tun0`)).toBe(true);
  });
});

describe('fleet arguments', () => {
  it('defaults to N = 1, 10, 50 and a 128 MiB image', () => {
    expect(parseFleetArgs([])).toEqual({ nodes: [1, 10, 50], imageMiB: 128 });
  });

  it('reads a list of sizes and the image size', () => {
    expect(parseFleetArgs(['--nodes', '3', '--image-mib', '64'])).toEqual({ nodes: [3], imageMiB: 64 });
    expect(parseFleetArgs(['--nodes', '1, 2,100'])).toEqual({ nodes: [1, 2, 100], imageMiB: 128 });
  });

  it('refuses what it cannot run', () => {
    expect(() => parseFleetArgs(['--nodes', '0'])).toThrow(/--nodes/);
    expect(() => parseFleetArgs(['--nodes', 'ten'])).toThrow(/--nodes/);
    expect(() => parseFleetArgs(['--nodes', ','])).toThrow(/at least one/);
    expect(() => parseFleetArgs(['--image-mib', '8'])).toThrow(/at least 16/);
    expect(() => parseFleetArgs(['--fast'])).toThrow(/usage/);
  });
});
