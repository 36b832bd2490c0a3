// The first-boot script's service switches, run by sh against a fake systemctl that
// records what it is asked and says when each service became active: a running
// service restarts only when it has not read the config cloud-init wrote for it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ANY_EXIT, ExecaRunner } from '../core/runner.js';

const SCRIPT = fileURLToPath(new URL('./templates/firstboot.sh', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'forge-firstboot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = new ExecaRunner();

const T = 1_700_000_000; // the services' start (unix seconds)

/** Runs firstboot.sh once; `configAt` is the mtime of every config file, `show` what `systemctl show` answers. */
async function firstBoot(name: string, o: { configAt: number; show: string; showExit?: number }): Promise<{ calls: string[]; log: string }> {
  const dir = join(work, name);
  const etc = join(dir, 'etc');
  const bin = join(dir, 'bin');
  for (const d of ['fuel-forge', 'mcollective', 'puppet', 'default']) mkdirSync(join(etc, d), { recursive: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(etc, 'fuel-forge', 'firstboot.env'), 'PUPPET_ENABLE=no\nMCO_ENABLE=yes\n');
  for (const f of ['mcollective/server.cfg', 'default/mcollective', 'puppet/puppet.conf', 'default/puppet']) {
    writeFileSync(join(etc, f), `# ${f}\n`);
    utimesSync(join(etc, f), o.configAt, o.configAt);
  }
  const calls = join(dir, 'calls.log');
  // mcollective is enabled and active; puppet is installed but not enabled.
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh
echo "$*" >> ${calls}
case "$1" in
  is-enabled) case "$*" in *puppet*) exit 1 ;; esac ;;
  show) echo "${o.show}"; exit ${o.showExit ?? 0} ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  await runner.run(['sh', SCRIPT], {
    env: { PATH: `${bin}:${process.env['PATH']}`, FUEL_FORGE_ETC: etc, FUEL_FORGE_LOG_DIR: join(dir, 'log') },
    // The call-back's scheduler is not on this machine: its failure is logged and the switches still run.
    okExitCodes: ANY_EXIT,
  });
  return { calls: readFileSync(calls, 'utf8').trim().split('\n'), log: readFileSync(join(dir, 'log', 'firstboot.log'), 'utf8') };
}

describe('first-boot script: service switches', () => {
  it('leaves a service running that started after cloud-init wrote its config', async () => {
    const r = await firstBoot('after', { configAt: T - 20, show: `@${T}` });
    expect(r.calls).toContain('show --timestamp=unix -P ActiveEnterTimestamp mcollective.service');
    expect(r.calls.filter((c) => c.startsWith('restart'))).toEqual([]);
    expect(r.log).toMatch(/service mcollective already running with its config/);
    expect(r.log).toMatch(/service mcollective enabled=yes/);
    // The disabled one is stopped, not disabled again (nothing to change).
    expect(r.calls).toContain('stop puppet.service');
    // The call-back was scheduled before the switches (it waits for cloud-init, these included).
    expect(r.log.indexOf('scheduling provisioned report')).toBeLessThan(r.log.indexOf('service puppet'));
    expect(r.calls.some((c) => c.startsWith('disable'))).toBe(false);
  });

  it('restarts a service whose config was written after it started, or in the same second', async () => {
    for (const [name, configAt] of [['before', T + 5], ['same-second', T]] as const) {
      const r = await firstBoot(name, { configAt, show: `@${T}` });
      expect(r.calls, name).toContain('restart --no-block mcollective.service');
      expect(r.log, name).not.toMatch(/already running/);
    }
  });

  it('restarts when systemd cannot say when the service started (no --timestamp=unix before systemd 248)', async () => {
    const r = await firstBoot('old-systemd', { configAt: T - 20, show: 'Unknown option', showExit: 1 });
    expect(r.calls).toContain('restart --no-block mcollective.service');
  });
});
