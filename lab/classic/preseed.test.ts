// The classic-method preseed, checked by its readers: debconf's own
// debconf-set-selections (-c), the installer's preseed reader and busybox (both
// taken from Debian's netboot initrd when debian-installer-12-netboot-amd64 is
// installed), dash; and the late script run against a scratch target with
// recording stubs, fed values that would run commands if quoting failed.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUD_DATASOURCE_FILE, cloudDatasourceCfg, GRUB_DROPIN_FILE, grubDropIn, LVM_ACTIVATE_UNIT, LVM_ACTIVATE_WANTS } from '../../agent/bootloader/target-files.js';
import { ForgeError } from '../../agent/core/errors.js';
import { DATASOURCE_CFG, DATASOURCE_CFG_PATH, INITRAMFS_LVM_SCRIPT, INITRAMFS_LVM_SCRIPT_PATH } from '../../agent/host/image/finish-rootfs.js';
import type { Plan } from '../../agent/plan/types.js';
import { fuelSamplePlan, scenarioPlan } from './test-plans.js';
import { DI_FILES, DI_NETBOOT_DIR } from './installer.js';
import { INSTALLER_COMPONENTS, preseedScripts, renderPreseed, TARGET_PACKAGES, type PreseedOptions } from './preseed.js';

const O: PreseedOptions = {
  hostname: 'node-7',
  domain: 'domain.tld',
  mirror: { host: '10.97.3.1:3142', directory: '/debian', suite: 'bookworm' },
  packages: ['linux-image-amd64', 'openssh-server', 'mcollective', 'puppet', 'rsync'],
  seedUrl: 'http://10.97.3.1/cblr/svc/op/template/system/node-7/config_drive/',
  seedFiles: ['openstack/latest/meta_data.json', 'openstack/latest/user_data'],
  seedDir: '/var/lib/cloud/seed/config_drive',
  nopxeUrl: 'http://10.97.3.1/cblr/svc/op/nopxe/system/node-7',
  authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC0Hp4hHl2rfdpYHcoJGI5goTSIJIVUW/NeaM24jdIHs master'],
  timezone: 'Etc/UTC',
};

/** The installer's reader forks per line (~1.5 s a preseed): two layouts cover what differs between preseeds. */
const DI_READ = new Set(['two-disks-raid-lvm', 'esp-single-disk']);
const PLANS: Record<string, () => Plan | Promise<Plan>> = {
  'single-disk': () => scenarioPlan('single-disk'),
  'two-disks-raid-lvm': () => scenarioPlan('two-disks-raid-lvm'),
  'fuel-sample': fuelSamplePlan,
  'esp-single-disk': () => scenarioPlan('esp-single-disk'),
  'ceph-osd': () => scenarioPlan('ceph-osd'),
};

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
let tmp = '';
const DI_INITRD = join(DI_NETBOOT_DIR, DI_FILES.initrd);
/** Debian's netboot installer is installed: its busybox and preseed reader are the oracles. */
const HAVE_DI = existsSync(DI_INITRD) && has('cpio');
const HAVE_BUSYBOX = HAVE_DI || has('busybox');

/** Non-comment, non-blank preseed lines (what both readers parse). */
const settings = (text: string): string[] => text.split('\n').filter((l) => l.trim() && !/^\s*#/.test(l));

/** The installer's own busybox and preseed reader, from the netboot initrd (Debian package debian-installer-12-netboot-amd64). */
let di: { busybox: string; appletPath: string; reader: string } | undefined;
let busybox: string | undefined;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'forge-preseed-'));
  if (HAVE_DI) {
    const dir = join(tmp, 'initrd');
    mkdirSync(dir);
    spawnSync('sh', ['-c', `zcat ${DI_INITRD} | cpio -id --quiet bin/busybox bin/debconf-set-selections`], { cwd: dir });
    const bb = join(dir, 'bin/busybox');
    const reader = join(dir, 'bin/debconf-set-selections');
    if (existsSync(bb) && existsSync(reader)) {
      // Its tools are busybox applets, as in the installer (not the host's GNU grep/sed).
      const applets = join(tmp, 'applets');
      mkdirSync(applets);
      for (const a of ['sh', 'grep', 'sed', 'base64']) symlinkSync(bb, join(applets, a));
      di = { busybox: bb, appletPath: applets, reader };
    } else throw new Error(`${DI_INITRD} holds no bin/busybox or bin/debconf-set-selections`);
  }
  busybox = di?.busybox ?? (has('busybox') ? 'busybox' : undefined);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * The installer's debconf-set-selections (bin/ of the initrd) with its two
 * sourced libraries replaced by stubs that print what it would db_set.
 */
function diParse(preseed: string): { status: number | null; values: Map<string, string>; stderr: string } {
  if (!di) throw new Error('no installer initrd');
  const src = readFileSync(di.reader, 'utf8');
  const stubbed = src
    .replace(/^\. \/usr\/share\/debconf\/confmodule$/m, 'db_set() { printf "%s\\037%s\\036" "$1" "$2" >>"$FORGE_OUT"; }; db_fset() { :; }; db_register() { :; }; db_subst() { :; }')
    .replace(/^\. \/lib\/preseed\/preseed\.sh$/m, 'logfile="$FORGE_OUT.log"; log() { echo "$*" >&2; }');
  expect(stubbed).not.toContain('. /usr/share/debconf/confmodule');
  expect(stubbed).not.toContain('. /lib/preseed/preseed.sh');
  const dir = mkdtempSync(join(tmp, 'parse-'));
  writeFileSync(join(dir, 'reader.sh'), stubbed);
  writeFileSync(join(dir, 'preseed.cfg'), preseed);
  const out = join(dir, 'out');
  writeFileSync(out, '');
  const r = spawnSync(di.busybox, ['sh', 'reader.sh', 'preseed.cfg'], { cwd: dir, env: { PATH: di.appletPath, FORGE_OUT: out } });
  const values = new Map(readFileSync(out, 'utf8').split('\x1e').filter(Boolean).map((kv) => kv.split('\x1f') as [string, string]));
  return { status: r.status, values, stderr: r.stderr.toString() };
}

const perlCheck = (text: string) => {
  const f = join(mkdtempSync(join(tmp, 'dss-')), 'preseed.cfg');
  writeFileSync(f, text);
  const r = spawnSync('debconf-set-selections', ['-c', f]);
  return { status: r.status, stderr: r.stderr.toString() };
};

const decodeCommand = (cmd: string | undefined): string => {
  const m = /^echo ([A-Za-z0-9+/=]+) \| base64 -d > (\/tmp\/[a-z-]+\.sh) && sh \2$/.exec(cmd ?? '');
  expect(m, cmd).not.toBeNull();
  return Buffer.from(m?.[1] ?? '', 'base64').toString('utf8');
};

describe.each(Object.entries(PLANS))('preseed for %s', (name, planOf) => {
  it.skipIf(!has('debconf-set-selections'))("passes debconf's own check (debconf-set-selections -c): exit 0, no warning", async () => {
    const r = perlCheck(renderPreseed(await planOf(), O));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(HAVE_DI && DI_READ.has(name))("is read by the installer's own preseed reader as meant: every line, and the scripts byte for byte", async () => {
    const plan = await planOf();
    const text = renderPreseed(plan, O);
    const r = diParse(text);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect([...r.values.keys()]).toEqual(settings(text).map((l) => l.split(/\s+/)[1]));
    expect(r.values.get('netcfg/get_hostname')).toBe('node-7');
    expect(r.values.get('mirror/http/hostname')).toBe('10.97.3.1:3142');
    expect(r.values.get('anna/choose_modules')).toBe(INSTALLER_COMPONENTS.join(', '));
    expect(r.values.get('pkgsel/include')?.split(' ')).toEqual(expect.arrayContaining([...O.packages, ...TARGET_PACKAGES]));
    const scripts = preseedScripts(plan, O);
    expect(decodeCommand(r.values.get('partman/early_command'))).toBe(scripts.early);
    expect(decodeCommand(r.values.get('preseed/late_command'))).toBe(scripts.late);
    // … and the installer's base64 decodes what we encoded.
    const b64 = /^echo (\S+) \|/.exec(r.values.get('preseed/late_command') ?? '')?.[1] ?? '';
    expect(spawnSync(di!.busybox, ['base64', '-d'], { input: b64 }).stdout.toString()).toBe(scripts.late);
  });

  it('holds nothing the installer reader would mangle: one line per setting, no glob or control characters, no continuation', async () => {
    for (const l of settings(renderPreseed(await planOf(), O))) {
      expect(l).toMatch(/^(d-i|tasksel|popularity-contest|grub-pc) \S+ (string|boolean|select|multiselect|note|password)( \S.*)?$/);
      expect(l).not.toMatch(/[*?[\x00-\x1f\x7f]|\\$/);
    }
  });

  const syntax = async (argv: string[]) => {
    const s = preseedScripts(await planOf(), O);
    for (const text of [s.early, s.late]) {
      const r = spawnSync(argv[0] as string, argv.slice(1), { input: text });
      expect(r.stderr.toString()).toBe('');
      expect(r.status).toBe(0);
    }
  };
  it('both scripts are valid POSIX sh (dash -n)', () => syntax(['dash', '-n']));
  it.runIf(HAVE_BUSYBOX)("both scripts are valid for the installer's shell (busybox sh -n)", () => syntax([busybox as string, 'sh', '-n']));

  it('late script: seed files, datasource, GRUB on every boot disk, and netboot off as the very last command', async () => {
    const plan = await planOf();
    const late = preseedScripts(plan, O).late;
    for (const f of O.seedFiles) expect(late).toContain(`run wget -q -O "$T"${O.seedDir}/${f} http://10.97.3.1/cblr/svc/op/template/system/node-7/config_drive/${f}\n`);
    expect(late).toContain(`>"$T"/${DATASOURCE_CFG_PATH}\n`);
    expect(late.match(/^run in-target grub-install --target=i386-pc --no-floppy (\S+)$/gm)?.map((l) => l.split(' ').pop())).toEqual(plan.bootloader.disks);
    expect(late.includes('--target=x86_64-efi')).toBe(plan.bootloader.espDevice !== undefined);
    expect(late.includes('mdadm --detail --scan')).toBe(plan.mds.length > 0);
    expect(late.includes(INITRAMFS_LVM_SCRIPT_PATH)).toBe(plan.vgs.length > 0);
    const runLines = late.split('\n').filter((l) => l.startsWith('run '));
    expect(runLines.at(-1)).toBe(`run wget -q -O /dev/null ${O.nopxeUrl}`);
    expect(renderPreseed(plan, O).includes(' grub-efi-amd64-bin')).toBe(plan.bootloader.espDevice !== undefined);
  });
});

describe('oracles can fail (negative controls)', () => {
  it.skipIf(!has('debconf-set-selections'))('debconf-set-selections -c rejects a line without a type and warns on an unknown type', async () => {
    const text = renderPreseed(await scenarioPlan('single-disk'), O);
    const noType = perlCheck(text.replace('d-i partman/confirm boolean true', 'd-i partman/confirm'));
    expect(noType.status).toBe(1);
    expect(noType.stderr).toMatch(/parse error/);
    const badType = perlCheck(text.replace('d-i partman/confirm boolean true', 'd-i partman/confirm booleen true'));
    expect(badType.stderr).toMatch(/warning: Unknown type booleen/);
  });

  it.runIf(HAVE_DI)("the installer's reader stops on a line it cannot split, and joins a trailing backslash with the next line", async () => {
    const text = renderPreseed(await scenarioPlan('single-disk'), O);
    expect(diParse(text.replace('d-i partman/confirm boolean true', 'd-i partman/confirm')).status).not.toBe(0);
    const joined = diParse(text.replace('d-i partman/confirm boolean true', 'd-i partman/confirm boolean true\\'));
    expect(joined.values.get('partman/confirm')).toBe('true d-i partman/confirm_nooverwrite boolean true');
  });
});

describe('refusals', () => {
  it('refuses keep_data: the installer re-creates every planned disk', async () => {
    const plan = await scenarioPlan('keep-data');
    for (const f of [() => renderPreseed(plan, O), () => preseedScripts(plan, O)]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ForgeError);
      expect(err).toMatchObject({ code: 'CONFIG_INVALID', field: 'parteds[0].partitions[4].keepData', details: { device: '/dev/vda5', role: '/var/lib/keep' } });
      expect((err as Error).message).toMatch(/\/dev\/vda5 .*keep_data.*classic method.*cannot keep data.*image method/);
    }
  });

  it.each<[string, Partial<PreseedOptions>, string]>([
    ['a hostname with shell syntax', { hostname: "n'$(reboot);x" }, 'hostname'],
    ['a dotted hostname', { hostname: 'node-7.domain.tld' }, 'hostname'],
    ['a domain with a space', { domain: 'domain tld' }, 'domain'],
    ['a seed file leaving the seed directory', { seedFiles: ['../../etc/shadow'] }, 'seedFiles[0]'],
    ['an authorized key with a second line', { authorizedKeys: ['ssh-ed25519 AAAA a\nssh-rsa BBBB evil'] }, 'authorizedKeys[0]'],
    ['kernel parameters with a newline', { kernelParams: 'console=ttyS0\nGRUB_X=1' }, 'kernelParams'],
    ['a package name with shell syntax', { packages: ['vim;reboot'] }, 'packages[0]'],
    ['a mirror host with a path', { mirror: { host: 'h/x', directory: '/debian', suite: 'bookworm' } }, 'mirror.host'],
    ['a proxy glob', { proxy: 'http://p*x:3128' }, 'proxy'],
    ['a timezone with spaces', { timezone: 'Etc/UTC 1' }, 'timezone'],
    ['a non-crypt root password', { rootPasswordHash: 'secret' }, 'rootPasswordHash'],
    ['a non-http nopxe URL', { nopxeUrl: 'file:///etc/passwd' }, 'nopxeUrl'],
  ])('refuses %s (CONFIG_INVALID naming the field)', async (_what, bad, field) => {
    const plan = await scenarioPlan('single-disk');
    expect(() => renderPreseed(plan, { ...O, ...bad } as PreseedOptions)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field }));
  });
});

/** Per character: true where the shell takes it literally (inside '…', or backslash-escaped outside quotes). */
function literalMask(script: string): boolean[] {
  const lit: boolean[] = new Array(script.length).fill(false);
  let state: 'none' | 'single' | 'double' = 'none';
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (state === 'single') {
      if (ch === "'") state = 'none';
      else lit[i] = true;
    } else if (state === 'double') {
      if (ch === '\\') i++;
      else if (ch === '"') state = 'none';
    } else if (ch === "'") state = 'single';
    else if (ch === '"') state = 'double';
    else if (ch === '\\') lit[++i] = true;
    else if (ch === '#' && (i === 0 || /\s/.test(script[i - 1] as string))) {
      const nl = script.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
    }
  }
  return lit;
}

describe('values from the data never run as commands', () => {
  const hostile: PreseedOptions = {
    ...O,
    seedFiles: ['openstack/latest/meta_data.json', "it's $(touch pwned1)/user data;touch pwned2"],
    kernelParams: `console=ttyS0,115200 x='$(touch pwned3)' ;touch pwned4; \`touch pwned5\` "q\\"`,
    authorizedKeys: ["ssh-ed25519 AAAA key'; touch pwned6; echo '", 'ssh-rsa BBBB $(touch pwned7) `touch pwned8` "x"'],
    // (a URL may hold no space: ${IFS} is the shell's way round that)
    nopxeUrl: "http://10.97.3.1/cblr/svc/op/nopxe/system/node-7?x=';touch${IFS}pwned9;'",
  };

  it('every hostile value sits inside single quotes in the late script', async () => {
    const late = preseedScripts(await scenarioPlan('two-disks-raid-lvm'), hostile).late;
    const lit = literalMask(late);
    const hits = [...late.matchAll(/touch(?: |\$\{IFS\})pwned\d/g)];
    expect(hits.length).toBeGreaterThanOrEqual(9);
    for (const m of hits) {
      const idx = m.index ?? 0;
      expect(lit.slice(idx, idx + m[0].length).every(Boolean), late.slice(idx - 40, idx + 20)).toBe(true);
    }
  });

  it('the late script, run against a scratch target with recording stubs, writes the values verbatim and runs none of them', async () => {
    const plan = await scenarioPlan('two-disks-raid-lvm');
    const late = preseedScripts(plan, hostile).late;
    const root = mkdtempSync(join(tmp, 'late-'));
    const [T, S, stubs, cwd] = ['target', 'state', 'stubs', 'cwd'].map((d) => join(root, d)) as [string, string, string, string];
    for (const d of [T, S, stubs, cwd, join(T, 'etc')]) mkdirSync(d, { recursive: true });
    writeFileSync(join(S, 'fstab'), 'UUID=1 / ext4 defaults 0 1\n');
    writeFileSync(join(T, 'etc/fstab'), '# UNCONFIGURED FSTAB FOR BASE SYSTEM\n');
    const rec = join(root, 'calls');
    const record = `{ printf '%s' "$(basename "$0")"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\036'; } >>"$FORGE_REC"`;
    const stub = (name: string, body = '') => {
      writeFileSync(join(stubs, name), `#!/bin/sh\n${record}\n${body}\n`);
      chmodSync(join(stubs, name), 0o755);
    };
    stub('logger');
    stub('udevadm');
    stub('wget', 'out=; while [ $# -gt 1 ]; do [ "$1" = -O ] && out=$2; shift; done\n[ -z "$out" ] || [ "$out" = /dev/null ] || printf \'seed %s\\n\' "$1" >"$out"');
    stub('mdadm', 'echo "ARRAY /dev/md/Boot metadata=1.0 UUID=11111111:22222222:33333333:44444444 name=node-7:Boot"');
    stub('in-target', '[ "$1" = grub-mkconfig ] || exit 0\nmkdir -p "$FORGE_TARGET/boot/grub"\nprintf \'menuentry x {\\n\\tlinux /vmlinuz root=/dev/mapper/os-root ro %s\\n}\\n\' "$FORGE_CMDLINE" >"$FORGE_TARGET/boot/grub/grub.cfg"');
    writeFileSync(join(root, 'late.sh'), late);
    const r = spawnSync('dash', [join(root, 'late.sh')], {
      cwd,
      env: { PATH: `${stubs}:/usr/bin:/bin`, FORGE_TARGET: T, FORGE_STATE: S, FORGE_LOG: join(root, 'log'), FORGE_REC: rec, FORGE_CMDLINE: hostile.kernelParams },
    });
    const log = readFileSync(join(root, 'log'), 'utf8');
    expect(r.status, log + r.stderr.toString()).toBe(0);
    expect(log).toMatch(/late: done: target configured, netboot off/);
    // Nothing ran: no file from any `touch pwnedN`, anywhere the script could have run it.
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(root).filter((f) => f.startsWith('pwned'))).toEqual([]);

    const all = readFileSync(rec, 'utf8').split('\x1e').filter(Boolean).map((c) => c.split('\x1f'));
    // Every step is logged to syslog too.
    expect(all.filter((c) => c[0] === 'logger').at(-1)).toEqual(['logger', '-t', 'fuel-forge', 'late: done: target configured, netboot off']);
    const calls = all.filter((c) => c[0] !== 'logger');
    const seedDir = join(T, hostile.seedDir as string);
    expect(calls.filter((c) => c[0] === 'wget')).toEqual([
      ['wget', '-q', '-O', `${seedDir}/openstack/latest/meta_data.json`, 'http://10.97.3.1/cblr/svc/op/template/system/node-7/config_drive/openstack/latest/meta_data.json'],
      ['wget', '-q', '-O', `${seedDir}/it's $(touch pwned1)/user data;touch pwned2`, `http://10.97.3.1/cblr/svc/op/template/system/node-7/config_drive/${encodeURIComponent("it's $(touch pwned1)")}/${encodeURIComponent('user data;touch pwned2')}`],
      ['wget', '-q', '-O', '/dev/null', hostile.nopxeUrl],
    ]);
    expect(calls.at(-1)).toEqual(['wget', '-q', '-O', '/dev/null', hostile.nopxeUrl]);
    expect(calls.filter((c) => c[0] === 'in-target').map((c) => c.slice(1).join(' '))).toEqual([
      'update-initramfs -u -k all',
      'grub-install --target=i386-pc --no-floppy /dev/vda',
      'grub-install --target=i386-pc --no-floppy /dev/vdb',
      'grub-mkconfig -o /boot/grub/grub.cfg',
    ]);

    const cat = (rel: string) => readFileSync(join(T, rel), 'utf8');
    const mode = (rel: string) => statSync(join(T, rel)).mode & 0o777;
    expect(cat('etc/fstab')).toBe('UUID=1 / ext4 defaults 0 1\n');
    expect(cat(`${hostile.seedDir}/it's $(touch pwned1)/user data;touch pwned2`)).toMatch(/^seed http/);
    expect(cat(GRUB_DROPIN_FILE)).toBe(grubDropIn(hostile.kernelParams as string));
    expect(cat('root/.ssh/authorized_keys')).toBe(hostile.authorizedKeys.map((k) => `${k}\n`).join(''));
    expect([mode('root/.ssh'), mode('root/.ssh/authorized_keys')]).toEqual([0o700, 0o600]);
    expect(cat(DATASOURCE_CFG_PATH)).toBe(DATASOURCE_CFG);
    expect(cat(CLOUD_DATASOURCE_FILE)).toBe(cloudDatasourceCfg());
    expect(cat('etc/mdadm/mdadm.conf')).toBe('ARRAY /dev/md/Boot metadata=1.0 UUID=11111111:22222222:33333333:44444444 name=node-7:Boot\n');
    expect(cat(INITRAMFS_LVM_SCRIPT_PATH)).toBe(INITRAMFS_LVM_SCRIPT);
    expect(mode(INITRAMFS_LVM_SCRIPT_PATH)).toBe(0o755);
    expect(cat(LVM_ACTIVATE_UNIT)).toMatch(/ExecStart=\/sbin\/lvm vgchange --activate ay --sysinit os data-vg\n/);
    expect(spawnSync('readlink', [join(T, LVM_ACTIVATE_WANTS)]).stdout.toString().trim()).toBe(`/${LVM_ACTIVATE_UNIT}`);
    // The log of both phases ends up in the target.
    expect(cat('var/log/fuel-forge-classic.log')).toContain('late: done');
  });

  it('the late script fails (and says so) when grub.cfg lacks a planned kernel parameter', async () => {
    const late = preseedScripts(await scenarioPlan('single-disk'), O).late;
    const check = late.slice(late.indexOf('FORGE_PARAMS='), late.indexOf('\n', late.indexOf('"$T/boot/grub/grub.cfg"')));
    const T = mkdtempSync(join(tmp, 'grubcfg-'));
    mkdirSync(join(T, 'boot/grub'), { recursive: true });
    const run = (cfg: string) => {
      writeFileSync(join(T, 'boot/grub/grub.cfg'), cfg);
      return spawnSync('dash', ['-c', `LOG=/dev/null; log() { echo "$*" >&2; }; T=${T}; ${check}`]).status;
    };
    const params = 'console=ttyS0,115200 console=tty0 net.ifnames=0';
    expect(run(`menuentry a {\n\tlinux /vmlinuz root=/dev/vda4 ro ${params} quiet\n}\n`)).toBe(0);
    expect(run(`menuentry a {\n\tlinux /vmlinuz root=/dev/vda4 ro ${params}\n}\nmenuentry b {\n\tlinux /vmlinuz root=/dev/vda4 ro console=tty0\n}\n`)).not.toBe(0);
    expect(run('no linux lines\n')).not.toBe(0);
  });

  it('sets the Ceph type GUIDs parted cannot write, from the target, with sgdisk', async () => {
    const late = preseedScripts(await scenarioPlan('ceph-osd'), O).late;
    expect(late.match(/^run in-target sgdisk .*$/gm)).toEqual([
      'run in-target sgdisk --typecode=5:45B0969E-9B03-4F30-B4C6-B4B80CEFF106 /dev/vda',
      'run in-target sgdisk --typecode=6:45B0969E-9B03-4F30-B4C6-B4B80CEFF106 /dev/vda',
      'run in-target sgdisk --typecode=3:4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D /dev/vdb',
      'run in-target sgdisk --typecode=3:4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D /dev/vdc',
    ]);
  });
});
