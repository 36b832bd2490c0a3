// Fuel's "classic" provisioning: debian-installer (Debian 12) driven by a preseed
// that Cobbler serves for the node. This renders that preseed from the SAME plan
// the image agent executes (buildPlan of ks_meta.pm_data.ks_spaces), so both
// methods leave the same partitions, arrays, VGs/LVs, filesystems, mounts and
// fstab. Pure: text out, no I/O.
//
// Decisions, and why:
// - Partitioning is the partman/early_command script (preseed-layout.ts), not a
//   partman-auto recipe: recipes cannot place partitions at offsets (sizes are
//   decimal megabytes that partman rounds) nor build LVM over several disks plus
//   MD in one run. No recipe is rendered: partman's display/commit steps are
//   switched off, so a recipe would never be read — a second, inexact copy of the
//   layout that nothing checks. The layout is printed as `#` comments instead.
// - GRUB is installed from the late command on EVERY boot disk (grub-installer
//   skipped: it installs to one device and writes its own command line), with
//   the image method's GRUB drop-in (it sorts last, so /etc/default/grub needs no
//   sed), initramfs LVM script and VG activation unit, and the same grub.cfg check.
// - First boot: the late command fetches the node's seed files into cloud-init's
//   seed directory and writes the image's datasource settings; the plan's
//   configdrive partition is created but left blank (the seed stands in for it).
// - keep_data is refused: the installer relabels disks, and Fuel's classic method
//   never honoured keep_data (fuel-agent introduced it). The image method keeps it.
// - Nothing reaches outside the lab: no security/updates suites, no NTP, no
//   popularity-contest, no firmware lookups, no tasks; apt only from o.mirror.
// - The scripts travel base64-encoded (busybox in the installer has base64): one
//   debconf line, no quoting through debconf's parser. Every value from the data
//   is a validated debconf value or a single-quoted shell word (shellQuote).
import { CLOUD_DATASOURCE_FILE, cloudDatasourceCfg, GRUB_DROPIN_FILE, grubDropIn, LVM_ACTIVATE_UNIT, LVM_ACTIVATE_WANTS, lvmActivateUnit } from '../../agent/bootloader/target-files.js';
import { targetPath } from '../../agent/bootloader/target-path.js';
import { ForgeError } from '../../agent/core/errors.js';
import { DATASOURCE_CFG, DATASOURCE_CFG_PATH, INITRAMFS_LVM_SCRIPT, INITRAMFS_LVM_SCRIPT_PATH } from '../../agent/host/image/finish-rootfs.js';
import type { Plan } from '../../agent/plan/types.js';
import { grubInstallBiosArgv, grubInstallEfiArgv, grubMkconfigArgv } from '../../agent/tools/grub.js';
import { shellQuote } from '../deploy/ssh.js';
import { earlyScript, layoutComments, putLine, runLine, scriptPrelude, typeFixes } from './preseed-layout.js';

export interface PreseedOptions {
  hostname: string;
  domain: string;
  /** The master's Debian archive (apt-cacher-ng on the master): host:port, directory, suite (bookworm). */
  mirror: { host: string; directory: string; suite: string };
  /** HTTP proxy for the installer's apt ('' or absent = none). */
  proxy?: string;
  /** Packages the target must get (the image profile's list); the tools the scripts need are added. */
  packages: readonly string[];
  /** Base URL the installer fetches the node's first-boot files from (`<seedUrl>/<file>`). */
  seedUrl: string;
  /** Paths relative to seedUrl and seedDir, e.g. `user-data` or `openstack/latest/meta_data.json`. */
  seedFiles: readonly string[];
  /** cloud-init seed directory in the target; default NoCloud's (/var/lib/cloud/seed/nocloud). */
  seedDir?: string;
  /** GET last, so Cobbler turns netboot off (/cblr/svc/op/nopxe/system/<name>). */
  nopxeUrl: string;
  /** The installed system's kernel command line; default the plan's (pm_data.kernel_params). */
  kernelParams?: string;
  /** crypt(3) hash for root; absent = locked password ('!'), root logs in with its keys only. */
  rootPasswordHash?: string;
  authorizedKeys: readonly string[];
  timezone: string;
}

/**
 * Installer components (udebs) the early script's tools come from, for anna/choose_modules.
 * Exact package names: anna matches each package's name as a substring of the
 * answer, so a kernel-module name without its kernel (md-modules) would match
 * nothing. The kernel modules come through these packages' dependencies, which
 * anna resolves for the running kernel: md-modules (MD and device-mapper) via
 * partman-md/partman-lvm, ext4-modules via partman-ext3, xfs-modules via
 * partman-xfs, fat-modules via partman-basicfilesystems, efi-modules via partman-efi.
 */
export const INSTALLER_COMPONENTS = [
  'parted-udeb',
  'mdadm-udeb',
  'lvm2-udeb',
  'e2fsprogs-udeb',
  'xfsprogs-udeb',
  'dosfstools-udeb',
  'partman-md',
  'partman-lvm',
  'partman-ext3',
  'partman-xfs',
  'partman-basicfilesystems',
  'partman-efi',
] as const;

/**
 * What the target needs whatever the image profile says, for what the scripts do
 * there: GRUB (grub-installer is skipped), LVM/MD in the initramfs (busybox:
 * initramfs-tools only recommends it), sgdisk (gdisk) for type GUIDs parted cannot
 * set, cloud-init to read the seed, sshd for the authorized keys, and the tools of
 * the layout (parted, mkfs.*) for whoever has to repair it. grub-efi-amd64-bin is
 * added when the plan has an ESP.
 */
export const TARGET_PACKAGES = ['grub-pc', 'lvm2', 'mdadm', 'busybox', 'gdisk', 'parted', 'e2fsprogs', 'xfsprogs', 'dosfstools', 'cloud-init', 'openssh-server'] as const;

const DEFAULT_SEED_DIR = '/var/lib/cloud/seed/nocloud';
const EARLY_PATH = '/tmp/fuel-forge-early.sh';
const LATE_PATH = '/tmp/fuel-forge-late.sh';
/** An execve argument (sh -c "$command") may not exceed 128 KiB on Linux. */
const MAX_COMMAND = 120 * 1024;

const invalid = (field: string, message: string): ForgeError => new ForgeError('CONFIG_INVALID', message, { field });

// ---- validation ---------------------------------------------------------------

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const PACKAGE = /^[a-z0-9][a-z0-9+.-]+$/;

function checkUrl(field: string, s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw invalid(field, `${field}: ${JSON.stringify(s)} is not a URL`);
  }
  if (!/^https?:$/.test(u.protocol) || /[\s\x00-\x1f\x7f]/.test(s)) throw invalid(field, `${field}: ${JSON.stringify(s)} must be an http(s) URL without spaces`);
  return s.replace(/\/+$/, '');
}

/** A relative seed path: no empty, `.` or `..` segment (it lands under the seed directory). */
function checkRelative(field: string, s: string): string {
  const parts = s.split('/');
  if (!s || s.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..') || /[\x00-\x1f\x7f]/.test(s)) {
    throw invalid(field, `${field}: ${JSON.stringify(s)} must be a relative path without empty, . or .. parts`);
  }
  return s;
}

interface Checked {
  kernelParams: string;
  seedDir: string;
  seedUrl: string;
  packages: string[];
}

function check(plan: Plan, o: PreseedOptions): Checked {
  refuseKeepData(plan);
  if (!LABEL.test(o.hostname)) throw invalid('hostname', `hostname ${JSON.stringify(o.hostname)} is not one DNS label (letters, digits, '-')`);
  if (o.domain !== '' && !o.domain.split('.').every((l) => LABEL.test(l))) throw invalid('domain', `domain ${JSON.stringify(o.domain)} is not a DNS name`);
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(o.mirror.host)) throw invalid('mirror.host', `mirror host ${JSON.stringify(o.mirror.host)} is not host[:port]`);
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(o.mirror.directory)) throw invalid('mirror.directory', `mirror directory ${JSON.stringify(o.mirror.directory)} is not an absolute path`);
  if (!/^[a-z0-9-]+$/.test(o.mirror.suite)) throw invalid('mirror.suite', `mirror suite ${JSON.stringify(o.mirror.suite)} is not a suite name`);
  if (o.proxy) {
    checkUrl('proxy', o.proxy);
    if (/[*?[]/.test(o.proxy)) throw invalid('proxy', 'the proxy URL may hold no * ? [ (the installer reads preseed lines as globs)');
  }
  o.packages.forEach((p, i) => {
    if (!PACKAGE.test(p)) throw invalid(`packages[${i}]`, `package name ${JSON.stringify(p)} is not a Debian package name`);
  });
  const seedUrl = checkUrl('seedUrl', o.seedUrl);
  checkUrl('nopxeUrl', o.nopxeUrl);
  const seedDir = o.seedDir ?? DEFAULT_SEED_DIR;
  if (!seedDir.startsWith('/')) throw invalid('seedDir', `seedDir ${JSON.stringify(seedDir)} must be absolute`);
  try {
    targetPath('/target', seedDir);
  } catch (e) {
    throw invalid('seedDir', (e as Error).message);
  }
  o.seedFiles.forEach((f, i) => checkRelative(`seedFiles[${i}]`, f));
  const kernelParams = o.kernelParams ?? plan.bootloader.kernelParams;
  if (/[\x00-\x1f\x7f]/.test(kernelParams)) throw invalid('kernelParams', 'kernel parameters must be one line without control characters');
  if (o.rootPasswordHash !== undefined && !/^\$[0-9a-z]+\$[./0-9A-Za-z$=,+-]+$/.test(o.rootPasswordHash)) {
    throw invalid('rootPasswordHash', 'rootPasswordHash must be a crypt(3) hash ($id$…)');
  }
  o.authorizedKeys.forEach((k, i) => {
    // A newline would add a key line of its own.
    if (!k.trim() || /[\x00-\x1f\x7f]/.test(k)) throw invalid(`authorizedKeys[${i}]`, 'an authorized key is one non-empty line');
  });
  if (!/^[A-Za-z0-9/_+-]+$/.test(o.timezone)) throw invalid('timezone', `timezone ${JSON.stringify(o.timezone)} is not a tz name`);
  const packages = [...new Set([...o.packages, ...TARGET_PACKAGES, ...(plan.bootloader.espDevice ? ['grub-efi-amd64-bin'] : [])])];
  return { kernelParams, seedDir: seedDir.replace(/\/+$/, ''), seedUrl, packages };
}

/** Classic mode re-creates every planned disk: any keep_data in the plan is refused, naming the first kept item. */
export function refuseKeepData(plan: Plan): void {
  const refuse = (field: string, what: string, details: Record<string, unknown>): never => {
    throw new ForgeError(
      'CONFIG_INVALID',
      `${what} is keep_data: the classic method (debian-installer) re-creates every planned disk and cannot keep data; provision this node with the image method`,
      { field, details },
    );
  };
  plan.parteds.forEach((d, i) =>
    d.partitions.forEach((p, j) => {
      if (p.keepData) refuse(`parteds[${i}].partitions[${j}].keepData`, `${p.device} (${p.role} on ks_spaces disk ${d.id})`, { device: p.device, role: p.role, disk: d.id });
    }),
  );
  const rest: [string, { keepData: boolean; device: string }[]][] = [['mds', plan.mds], ['lvs', plan.lvs], ['fss', plan.fss]];
  for (const [key, items] of rest) {
    items.forEach((x, i) => {
      if (x.keepData) refuse(`${key}[${i}].keepData`, x.device, { device: x.device });
    });
  }
  plan.vgs.forEach((v, i) => {
    if (v.keepData) refuse(`vgs[${i}].keepData`, `volume group ${v.name}`, { vg: v.name });
  });
}

// ---- the late script ------------------------------------------------------------

/** A path in the target as a shell word: "$T" plus the single-quoted rest. */
const inTarget = (abs: string): string => `"$T"${shellQuote(abs.startsWith('/') ? abs : `/${abs}`)}`;
const parentOf = (abs: string): string => abs.replace(/\/[^/]+$/, '') || '/';

function putFile(lines: string[], rel: string, content: string, mode: string): void {
  const abs = `/${rel}`;
  lines.push(`mkdir -p ${inTarget(parentOf(abs))}`);
  lines.push(putLine(inTarget(abs), content));
  lines.push(`chmod ${mode} ${inTarget(abs)}`);
}

/**
 * Every `linux` line of the generated grub.cfg must carry every planned parameter
 * (as the agent's bootloader step checks with missingKernelParams).
 */
const GRUB_PARAMS_CHECK = [
  'BEGIN { n = split(ENVIRON["FORGE_PARAMS"], want, /[ \\t]+/) }',
  '/^[ \\t]*linux(16|efi)?[ \\t]/ { lines++; for (i = 1; i <= n; i++) { if (want[i] == "") continue; ok = 0; for (j = 1; j <= NF; j++) if ($j == want[i]) ok = 1; if (!ok) { print "missing " want[i] " in: " $0; bad = 1 } } }',
  'END { if (lines == 0) { print "no linux line"; bad = 1 }; exit bad }',
].join('\n');

function lateScript(plan: Plan, o: PreseedOptions, c: Checked): string {
  const L = scriptPrelude('late');
  // Whatever happens, the target keeps both phases' log.
  L.push(`trap 'rc=$?; if [ "$rc" -ne 0 ]; then log "FAILED (exit $rc)"; fi; mkdir -p "$T/var/log" && cp "$LOG" "$T/var/log/fuel-forge-classic.log" || true' EXIT`);
  L.push('log start');

  L.push('', "# The early script's fstab must still be the target's (debootstrap only writes one when there is none).");
  L.push('if ! cmp -s "$S/fstab" "$T/etc/fstab"; then log "fstab differs from the planned one: restoring it"; run cp "$S/fstab" "$T/etc/fstab"; fi');

  L.push('', '# First-boot files, from the same source as the image method.');
  const dirs = new Set<string>();
  for (const f of o.seedFiles) {
    const dest = `${c.seedDir}/${f}`;
    const url = `${c.seedUrl}/${f.split('/').map(encodeURIComponent).join('/')}`;
    if (!dirs.has(parentOf(dest))) L.push(`mkdir -p ${inTarget(parentOf(dest))}`);
    dirs.add(parentOf(dest));
    L.push(`run wget -q -O ${inTarget(dest)} ${shellQuote(url)}`);
  }
  putFile(L, DATASOURCE_CFG_PATH, DATASOURCE_CFG, '0644');
  putFile(L, CLOUD_DATASOURCE_FILE, cloudDatasourceCfg(), '0644');

  if (plan.mds.length) {
    L.push('', '# The arrays in mdadm.conf (replacing any ARRAY lines the package wrote), for the initramfs.');
    L.push('mkdir -p "$T/etc/mdadm" && touch "$T/etc/mdadm/mdadm.conf"');
    L.push(`sed -i '/^ARRAY /d' "$T/etc/mdadm/mdadm.conf"`);
    L.push('mdadm --detail --scan >>"$T/etc/mdadm/mdadm.conf" 2>>"$LOG" || { log "mdadm --detail --scan failed"; exit 1; }');
  }
  if (plan.vgs.length) {
    L.push('', '# VG activation in the initramfs and at boot, as image-method nodes have it.');
    putFile(L, INITRAMFS_LVM_SCRIPT_PATH, INITRAMFS_LVM_SCRIPT, '0755');
    putFile(L, LVM_ACTIVATE_UNIT, lvmActivateUnit(plan.vgs.map((v) => v.name)), '0644');
    L.push(`mkdir -p ${inTarget(parentOf(`/${LVM_ACTIVATE_WANTS}`))}`);
    L.push(`ln -sf ${shellQuote(`/${LVM_ACTIVATE_UNIT}`)} ${inTarget(LVM_ACTIVATE_WANTS)}`);
  }
  const fixes = typeFixes(plan);
  if (fixes.length) {
    L.push('', '# Partition type GUIDs parted 3.5 cannot write (sgdisk from the target).');
    for (const f of fixes) L.push(runLine(['in-target', 'sgdisk', `--typecode=${f.num}:${f.guid}`, f.disk]));
  }

  L.push('', '# Kernel command line (the drop-in sorts last, so it wins), initramfs, GRUB on every boot disk.');
  putFile(L, GRUB_DROPIN_FILE, grubDropIn(c.kernelParams), '0644');
  L.push(runLine(['in-target', 'update-initramfs', '-u', '-k', 'all']));
  for (const disk of plan.bootloader.disks) L.push(runLine(['in-target', ...grubInstallBiosArgv(disk)]));
  if (plan.bootloader.espDevice) L.push(runLine(['in-target', ...grubInstallEfiArgv('/boot/efi')]));
  L.push(runLine(['in-target', ...grubMkconfigArgv()]));
  L.push(`FORGE_PARAMS=${shellQuote(c.kernelParams)} awk ${shellQuote(GRUB_PARAMS_CHECK)} "$T/boot/grub/grub.cfg" >>"$LOG" 2>&1 || { log "grub.cfg lacks the planned kernel parameters"; exit 1; }`);

  if (o.authorizedKeys.length) {
    L.push('', "# root's authorized keys.");
    L.push('mkdir -p "$T/root/.ssh" && chmod 0700 "$T/root/.ssh"');
    L.push(`printf '%s\\n' ${o.authorizedKeys.map(shellQuote).join(' ')} >"$T/root/.ssh/authorized_keys"`);
    L.push('chmod 0600 "$T/root/.ssh/authorized_keys"');
  }

  L.push('', '# Netboot off: the next boot is from disk.');
  L.push(runLine(['wget', '-q', '-O', '/dev/null', o.nopxeUrl]));
  L.push('log "done: target configured, netboot off"');
  return L.join('\n') + '\n';
}

/** The shell scripts the preseed embeds (early = before partitioning, late = after the base system). */
export function preseedScripts(plan: Plan, o: PreseedOptions): { early: string; late: string } {
  const c = check(plan, o);
  return { early: earlyScript(plan), late: lateScript(plan, o, c) };
}

// ---- the preseed -----------------------------------------------------------------

/**
 * One debconf line. The installer's reader (d-i's debconf-set-selections, a shell
 * loop over `$(grep …)`) takes a trailing `\` as a continuation and glob-expands
 * each line, so a value may hold no newline, no trailing backslash and no `*?[`.
 */
function d(question: string, type: string, value: string, owner = 'd-i'): string {
  if (/[\x00-\x1f\x7f*?[]|\\$/.test(value)) throw invalid(question, `preseed value for ${question} holds a character d-i's preseed reader cannot take`);
  return value === '' ? `${owner} ${question} ${type}` : `${owner} ${question} ${type} ${value}`;
}

/** `echo <base64> | base64 -d > FILE && sh FILE`: the script reaches sh byte for byte. */
function embed(script: string, path: string, question: string): string {
  const cmd = `echo ${Buffer.from(script, 'utf8').toString('base64')} | base64 -d > ${path} && sh ${path}`;
  if (cmd.length > MAX_COMMAND) throw new ForgeError('PLAN_INVALID', `${question}: the script is ${cmd.length} bytes, over what sh -c can take`, { field: question });
  return cmd;
}

export function renderPreseed(plan: Plan, o: PreseedOptions): string {
  const c = check(plan, o);
  const early = earlyScript(plan);
  const late = lateScript(plan, o, c);
  const fqdn = o.domain ? `${o.hostname}.${o.domain}` : o.hostname;
  const lines = [
    `# fuel-forge classic preseed for ${fqdn} (Debian ${o.mirror.suite}), generated from the provisioning plan: do not edit.`,
    '# Partitioning is the partman/early_command script below (partman only confirms); this is the layout it creates:',
    ...layoutComments(plan),
    '',
    '# Locale, keyboard, network',
    d('debian-installer/locale', 'string', 'en_US.UTF-8'),
    d('debian-installer/language', 'string', 'en'),
    d('debian-installer/country', 'string', 'US'),
    d('localechooser/supported-locales', 'multiselect', 'en_US.UTF-8'),
    d('keyboard-configuration/xkb-keymap', 'select', 'us'),
    d('console-setup/ask_detect', 'boolean', 'false'),
    d('netcfg/choose_interface', 'select', 'auto'),
    d('netcfg/get_hostname', 'string', o.hostname),
    d('netcfg/get_domain', 'string', o.domain),
    d('netcfg/hostname', 'string', o.hostname),
    d('netcfg/wireless_wep', 'string', ''),
    d('hw-detect/load_firmware', 'boolean', 'false'),
    '',
    "# The master's archive only: nothing outside the lab",
    d('mirror/country', 'string', 'manual'),
    d('mirror/protocol', 'string', 'http'),
    d('mirror/http/hostname', 'string', o.mirror.host),
    d('mirror/http/directory', 'string', o.mirror.directory),
    d('mirror/http/proxy', 'string', o.proxy ?? ''),
    d('mirror/suite', 'string', o.mirror.suite),
    d('apt-setup/use_mirror', 'boolean', 'true'),
    d('apt-setup/services-select', 'multiselect', ''),
    d('apt-setup/security_host', 'string', ''),
    d('apt-setup/non-free-firmware', 'boolean', 'false'),
    d('apt-setup/non-free', 'boolean', 'false'),
    d('apt-setup/contrib', 'boolean', 'false'),
    d('apt-setup/enable-source-repositories', 'boolean', 'false'),
    d('apt-setup/cdrom/set-first', 'boolean', 'false'),
    d('apt-setup/disable-cdrom-entries', 'boolean', 'true'),
    d('clock-setup/utc', 'boolean', 'true'),
    d('clock-setup/ntp', 'boolean', 'false'),
    d('time/zone', 'string', o.timezone),
    '',
    '# Installer components the early script runs (parted, mdadm, lvm, mkfs.*)',
    d('anna/choose_modules', 'multiselect', INSTALLER_COMPONENTS.join(', ')),
    '',
    '# Accounts: root with its keys, no other user',
    d('passwd/root-login', 'boolean', 'true'),
    d('passwd/make-user', 'boolean', 'false'),
    d('passwd/root-password-crypted', 'password', o.rootPasswordHash ?? '!'),
    '',
    '# Partitioning: the early script creates and mounts everything; partman confirms nothing is left to do',
    d('partman/early_command', 'string', embed(early, EARLY_PATH, 'partman/early_command')),
    d('partman/confirm_nochanges', 'boolean', 'true'),
    d('partman/confirm', 'boolean', 'true'),
    d('partman/confirm_nooverwrite', 'boolean', 'true'),
    d('partman/choose_partition', 'select', 'finish'),
    d('partman-partitioning/confirm_write_new_label', 'boolean', 'true'),
    d('partman-md/confirm', 'boolean', 'true'),
    d('partman-md/confirm_nooverwrite', 'boolean', 'true'),
    d('partman-md/device_remove_md', 'boolean', 'true'),
    d('partman-lvm/confirm', 'boolean', 'true'),
    d('partman-lvm/confirm_nooverwrite', 'boolean', 'true'),
    d('partman-lvm/device_remove_lvm', 'boolean', 'true'),
    '',
    '# Base system and packages: no tasks, no upgrades, nothing optional',
    d('base-installer/kernel/image', 'string', 'linux-image-amd64'),
    d('tasksel/first', 'multiselect', '', 'tasksel'),
    d('pkgsel/run_tasksel', 'boolean', 'false'),
    d('pkgsel/include', 'string', c.packages.join(' ')),
    d('pkgsel/upgrade', 'select', 'none'),
    d('pkgsel/update-policy', 'select', 'none'),
    d('pkgsel/install-language-support', 'boolean', 'false'),
    d('popularity-contest/participate', 'boolean', 'false', 'popularity-contest'),
    // grub-pc's own postinst installs nowhere; the late script installs on every boot disk.
    d('grub-pc/install_devices', 'multiselect', '', 'grub-pc'),
    d('grub-pc/install_devices_empty', 'boolean', 'true', 'grub-pc'),
    '',
    '# Boot loader from the late script (every boot disk); grub-installer is skipped',
    d('grub-installer/skip', 'boolean', 'true'),
    d('lilo-installer/skip', 'boolean', 'true'),
    d('nobootloader/confirmation_common', 'note', ''),
    d('preseed/late_command', 'string', embed(late, LATE_PATH, 'preseed/late_command')),
    d('cdrom-detect/eject', 'boolean', 'false'),
    d('finish-install/reboot_in_progress', 'note', ''),
    d('debian-installer/exit/poweroff', 'boolean', 'false'),
    d('debian-installer/exit/halt', 'boolean', 'false'),
  ];
  return lines.join('\n') + '\n';
}
