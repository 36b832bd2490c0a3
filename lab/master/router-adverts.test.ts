import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_EXIT, ExecaRunner } from '../../agent/core/runner.js';
import { eui64LinkLocal, labRadvdConfOf, parseAnsweredSolicitations, radvdArgv, radvdConfig, sweepStaleRouterAdverts, usableLinkLocal } from './router-adverts.js';
import { writeOwnerMark } from '../owner-mark.js';

describe('the lab bridge\'s router adverts', () => {
  it('configure no prefix, no DHCPv6 and a router lifetime of 0; radvd\'s own parser accepts them', async () => {
    const conf = radvdConfig('fmbr97x5');
    expect(conf).toContain('interface fmbr97x5 {');
    expect(conf).toMatch(/AdvDefaultLifetime 0;/);
    expect(conf).toMatch(/AdvManagedFlag off;/);
    expect(conf).toMatch(/AdvOtherConfigFlag off;/);
    expect(conf).not.toMatch(/\bprefix\b|\bRDNSS\b|\bDNSSL\b|\broute\b/);
    const dir = mkdtempSync(join(tmpdir(), 'forge-radvd-test-'));
    try {
      writeFileSync(join(dir, 'radvd.conf'), conf);
      const r = await new ExecaRunner().run(['radvd', '--configtest', '--config', join(dir, 'radvd.conf')], { okExitCodes: ANY_EXIT });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stderr).toContain('syntax ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bridge name that could break out of the config block', () => {
    expect(() => radvdConfig('br0 { }; interface x')).toThrow(/bad bridge name/);
    expect(() => radvdConfig('a-very-long-bridge-name')).toThrow(/bad bridge name/);
  });

  it('are recognised in /proc argv only with the lab\'s own config path', () => {
    const argv = radvdArgv('/tmp/forge-radvd-fmbr97x5-Ab12/radvd.conf', '/tmp/forge-radvd-fmbr97x5-Ab12/radvd.pid');
    expect(argv.slice(0, 3)).toEqual(['radvd', '--nodaemon', '--config']);
    expect(labRadvdConfOf(argv)).toBe('/tmp/forge-radvd-fmbr97x5-Ab12/radvd.conf');
    expect(labRadvdConfOf(['/usr/sbin/radvd', '--config', '/etc/radvd.conf'])).toBeUndefined();
    expect(labRadvdConfOf(['/usr/sbin/dnsmasq', '--config', '/tmp/forge-radvd-x/radvd.conf'])).toBeUndefined();
  });

  it('name each node by the link-local address its NIC forms (EUI-64), as radvd logs it', () => {
    // Seen on the lab bridge: radvd logged this source for the node with MAC 52:54:00:f0:01:00,
    // and the kernel gave the bridge (MAC 02:42:45:3d:0e:5a) fe80::42:45ff:fe3d:e5a.
    expect(eui64LinkLocal('52:54:00:f0:01:00')).toBe('fe80::5054:ff:fef0:100');
    expect(eui64LinkLocal('02:42:45:3d:0e:5a')).toBe('fe80::42:45ff:fe3d:e5a');
    expect(() => eui64LinkLocal('52:54:00:f0:01')).toThrow(/not a MAC/);
    const log = [
      '[Nov 30 06:17:40] radvd (29617): fmbr97x149 received RS from: fe80::5054:ff:fef0:100',
      '[Nov 30 06:17:40] radvd (29617): fmbr97x149 processed an RS',
      '[Nov 30 06:17:44] radvd (29617): fmbr97x149 received RA from: fe80::42:45ff:fe3d:e5a (myself)',
    ].join('\n');
    expect(parseAnsweredSolicitations(log)).toEqual(['fe80::5054:ff:fef0:100']);
  });

  it('wait for a link-local address that passed duplicate address detection', () => {
    const line = (flags: string): string => `420: fmbr97x149    inet6 fe80::42:45ff:fe3d:e5a/64 scope link ${flags}\\       valid_lft forever preferred_lft forever`;
    expect(usableLinkLocal('')).toBeUndefined();
    expect(usableLinkLocal(line('tentative'))).toBeUndefined();
    expect(usableLinkLocal(line('dadfailed tentative'))).toBeUndefined();
    expect(usableLinkLocal(line(''))).toBe('fe80::42:45ff:fe3d:e5a');
  });

  it('leftovers: a dead owner\'s directory is swept (its pid file naming no radvd of ours), a live one\'s and an unmarked one stay', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'forge-radvd-sweep-'));
    try {
      const mk = (name: string, owner?: number): string => {
        const d = join(tmp, name);
        mkdirSync(d);
        if (owner) writeOwnerMark(d, true, owner);
        // This test's own pid: alive, but not a radvd with this config, so never signalled.
        writeFileSync(join(d, 'radvd.pid'), `${process.pid}\n`);
        return d;
      };
      const dead = mk('forge-radvd-fmbr97x1-a', 111);
      const live = mk('forge-radvd-fmbr97x2-b', 222);
      const unmarked = mk('forge-radvd-fmbr97x3-c');
      expect(sweepStaleRouterAdverts(tmp, (pid) => pid === 222)).toEqual([dead]);
      expect([existsSync(dead), existsSync(live), existsSync(unmarked)]).toEqual([false, true, true]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
