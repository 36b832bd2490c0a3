import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecaRunner } from '../../agent/core/runner.js';
import { classifySshFailure, forgetHostKey, shellQuote, sshArgv } from './ssh.js';

const key = { path: '/lab/id_ed25519', publicKey: 'ssh-ed25519 AAAA lab', knownHosts: '/lab/known_hosts' };

describe('ssh argv', () => {
  it('logs in as root with the lab key only: no agent, no password, no user config', () => {
    const a = sshArgv(key, '10.97.3.100', ['hostname', '--fqdn']);
    expect(a.slice(0, 3)).toEqual(['ssh', '-F', '/dev/null']);
    for (const o of ['IdentitiesOnly=yes', 'IdentityAgent=none', 'BatchMode=yes', 'PasswordAuthentication=no', 'UserKnownHostsFile=/lab/known_hosts']) expect(a).toContain(o);
    expect(a.slice(-3)).toEqual(['root@10.97.3.100', '--', 'hostname --fqdn']);
  });

  it('quotes each argument so the remote shell hands it to the program unchanged', () => {
    // The remote side is a POSIX shell: check with one.
    const hostile = ["it's", '$(reboot)', 'a b', '`id`;x', '"q"', ''];
    const line = hostile.map(shellQuote).join(' ');
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${line}`], { encoding: 'utf8' });
    expect(out).toBe(hostile.map((h) => `${h}\n`).join(''));
  });

  it('tells a refused key from an unreachable node', () => {
    expect(classifySshFailure('root@10.97.3.100: Permission denied (publickey).')).toBe('key-refused');
    expect(classifySshFailure('ssh: connect to host 10.97.3.100 port 22: Connection refused')).toBe('unreachable');
    expect(classifySshFailure('ssh: connect to host 10.97.3.100 port 22: No route to host')).toBe('unreachable');
    expect(classifySshFailure('Host key verification failed.')).toBe('host-key-changed');
  });

  it('forgets the host key an address had before (a re-provisioned node, or another node on that address)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-ssh-'));
    try {
      const k = { ...key, knownHosts: join(dir, 'known_hosts') };
      const runner = new ExecaRunner();
      await forgetHostKey(runner, k, '10.97.3.100'); // no file yet: nothing to do, no error
      const line = (ip: string, n: number): string => `${ip} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(n).repeat(43)}`;
      writeFileSync(k.knownHosts, `${line('10.97.3.100', 1)}\n${line('10.97.3.101', 2)}\n`);
      await forgetHostKey(runner, k, '10.97.3.100');
      // ssh-keygen's own reading of the file: only the other address is left.
      expect(readFileSync(k.knownHosts, 'utf8')).not.toContain('10.97.3.100 ');
      expect(execFileSync('ssh-keygen', ['-F', '10.97.3.101', '-f', k.knownHosts], { encoding: 'utf8' })).toContain('10.97.3.101');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
