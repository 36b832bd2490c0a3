// The first-boot report script, run by python3: its firmware facts against a fake sysfs laid
// out as efivarfs presents UEFI's variables (4 bytes of attributes, then the data;
// Boot#### as an EFI_LOAD_OPTION: UINT32 attributes, UINT16 path length, UCS-2
// description ending in NUL, the device path after it), and its boot analysis
// against fake cloud-init/systemctl/systemd-analyze commands.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecaRunner } from '../core/runner.js';
import { CLOUD_INIT_PYTHON } from '../testing/cloud-init.js';

const SCRIPT = fileURLToPath(new URL('./templates/fuel-forge-report.py', import.meta.url));
const GLOBAL = '8be4df61-93ca-11d2-aa0d-00e098032b8c';
const work = mkdtempSync(join(tmpdir(), 'forge-fw-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const runner = new ExecaRunner();

const attrs = Buffer.from([7, 0, 0, 0]);
const u16 = (n: number): Buffer => Buffer.from([n & 0xff, n >> 8]);
const loadOption = (desc: string): Buffer =>
  Buffer.concat([attrs, Buffer.from([1, 0, 0, 0]), u16(4), Buffer.from(`${desc}\0`, 'utf16le'), Buffer.from([0x7f, 0xff, 4, 0])]);

/** Loads the script as module `m` (its main part does not run), runs `statements`, and parses what it printed as JSON. */
async function scriptValue(statements: string, env: Record<string, string>): Promise<unknown> {
  const code = `import importlib.util, json\nspec = importlib.util.spec_from_file_location("r", ${JSON.stringify(SCRIPT)})\nm = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(m)\n${statements}`;
  const r = await runner.run(['python3', '-c', code], { env });
  return JSON.parse(r.stdout);
}

const firmwareOf = (sys: string): Promise<unknown> => scriptValue('print(json.dumps(m.firmware()))', { FUEL_FORGE_SYS: sys });

describe('first-boot report: firmware facts', () => {
  it('a UEFI node: Secure Boot state and the boot entries in BootOrder\'s order', async () => {
    const sys = join(work, 'uefi');
    const vars = join(sys, 'firmware', 'efi', 'efivars');
    mkdirSync(vars, { recursive: true });
    writeFileSync(join(vars, `SecureBoot-${GLOBAL}`), Buffer.concat([attrs, Buffer.from([1])]));
    writeFileSync(join(vars, `BootOrder-${GLOBAL}`), Buffer.concat([attrs, u16(0x0a), u16(0x0001)]));
    writeFileSync(join(vars, `Boot000A-${GLOBAL}`), loadOption('UEFI PXEv4 (MAC:525400F02100)'));
    writeFileSync(join(vars, `Boot0001-${GLOBAL}`), loadOption('UEFI Misc Device'));
    expect(await firmwareOf(sys)).toEqual({
      efi: true, secure_boot: 1, boot_order: ['Boot000A', 'Boot0001'],
      boot_entries: [{ id: 'Boot000A', description: 'UEFI PXEv4 (MAC:525400F02100)' }, { id: 'Boot0001', description: 'UEFI Misc Device' }],
    });
  });

  it('a BIOS node has no /sys/firmware/efi', async () => {
    const sys = join(work, 'bios');
    mkdirSync(join(sys, 'firmware'), { recursive: true });
    expect(await firmwareOf(sys)).toEqual({ efi: false });
  });
});

describe('first-boot report: boot analysis', () => {
  // Fake cloud-init/systemctl/systemd-analyze on PATH: each logs its start and end, so
  // the test sees what ran beside what (not how fast).
  it('asks systemd only once the boot is over, and cloud-init\'s analysis beside that wait', async () => {
    const bin = join(work, 'bin');
    const log = join(work, 'calls.log');
    mkdirSync(bin, { recursive: true });
    const fake = (name: string, body: string) =>
      writeFileSync(join(bin, name), `#!/bin/sh\necho "start ${name} $*" >> ${log}\n${body}\necho "end ${name} $1" >> ${log}\n`, { mode: 0o755 });
    fake('systemctl', 'sleep 0.5');
    fake('cloud-init', 'sleep 0.2; echo " -- Boot Record 01 --"; echo "     05.66900s (init-local/config-ssh)"');
    fake('systemd-analyze', 'sleep 0.3; case "$1" in time) echo "Startup finished in 15.9s (kernel) + 1min 15.9s (userspace)";; blame) printf "32.2s cloud-init-local.service\\n 1.0s ssh.service\\n";; *) printf "graphical.target @1min\\n  └─multi-user.target\\n";; esac');
    const analysis = await scriptValue(
      `from concurrent.futures import ThreadPoolExecutor\nwith ThreadPoolExecutor(max_workers=6) as pool:\n    print(json.dumps(m.boot_analysis(pool, then=lambda: open(${JSON.stringify(log)}, "a").write("then\\n"))))`,
      { PATH: `${bin}:${process.env['PATH']}` },
    );
    expect(analysis).toEqual({
      time: 'Startup finished in 15.9s (kernel) + 1min 15.9s (userspace)',
      blame: ['32.2s cloud-init-local.service', '1.0s ssh.service'],
      critical_chain: ['graphical.target @1min', '  └─multi-user.target'],
      cloud_init_blame: ['-- Boot Record 01 --', '05.66900s (init-local/config-ssh)'],
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    const at = (line: string) => calls.findIndex((l) => l.startsWith(line));
    const systemdEnd = at('end systemctl');
    expect(systemdEnd).toBeGreaterThan(0);
    for (const l of calls.filter((c) => c.startsWith('start systemd-analyze'))) expect(calls.indexOf(l)).toBeGreaterThan(systemdEnd);
    expect(calls.filter((c) => c.startsWith('start systemd-analyze'))).toHaveLength(3);
    // cloud-init's analysis started before the wait for systemd ended: it ran beside it.
    expect(at('start cloud-init analyze blame')).toBeLessThan(systemdEnd);
    // The caller's facts: once the boot is over, while systemd's analysis still runs.
    expect(calls.indexOf('then')).toBeGreaterThan(systemdEnd);
    expect(calls.indexOf('then')).toBeLessThan(Math.max(...calls.flatMap((c, i) => (c.startsWith('end systemd-analyze') ? [i] : []))));
  });
});

describe('first-boot report: cloud-init started ahead', () => {
  // A first boot's cloud-init events, as a lab node's /var/log/cloud-init.log held them.
  const EVENTS = fileURLToPath(new URL('../../fixtures/tool-output/cloud-init/first-boot-events.txt', import.meta.url));

  it("loads cloud-init's entry point, runs only on cue, and prints what cloud-init's own command prints", async () => {
    const out = join(work, 'warm-blame.txt');
    const cli = join(work, 'cli-blame.txt');
    // The system Python, which has cloud-init (the one on PATH may not).
    const code = `import importlib.util, json, os, time
spec = importlib.util.spec_from_file_location("r", ${JSON.stringify(SCRIPT)})
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
finish = m.warm_cloud_init(["analyze", "blame", "-i", ${JSON.stringify(EVENTS)}, "-o", ${JSON.stringify(out)}])
time.sleep(3)
before = os.path.exists(${JSON.stringify(out)})
rc, _, err = finish()
print(json.dumps({"before": before, "rc": rc, "err": err}))`;
    const r = await runner.run([CLOUD_INIT_PYTHON, '-c', code]);
    const warm = JSON.parse(r.stdout) as { before: boolean; rc: number; err: string };
    const own = await runner.run(['/usr/bin/cloud-init', 'analyze', 'blame', '-i', EVENTS, '-o', cli]);
    expect(warm.before).toBe(false);
    expect(warm.rc, warm.err).toBe(own.exitCode);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(cli, 'utf8'));
    expect(readFileSync(out, 'utf8')).toContain('(init-local/config-ssh)');
  });

  it('without a loadable cloud-init module it runs the cloud-init command instead', async () => {
    const bin = join(work, 'bin-fallback');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'cloud-init'), '#!/bin/sh\necho "fake cloud-init $*"\n', { mode: 0o755 });
    // A cloudinit package that cannot be imported shadows the real one (where there is one):
    // the warm start gives up (exit 125) before its cue.
    const shadow = join(work, 'shadow');
    mkdirSync(join(shadow, 'cloudinit'), { recursive: true });
    writeFileSync(join(shadow, 'cloudinit', '__init__.py'), 'raise ImportError("not this one")\n');
    const r = await scriptValue('print(json.dumps(m.warm_cloud_init(["analyze", "blame"])()))', { PATH: `${bin}:${process.env['PATH']}`, PYTHONPATH: shadow });
    expect(r).toEqual([0, 'fake cloud-init analyze blame\n', '']);
  });
});
