// The classic method's partitioning, as a POSIX sh script for debian-installer's
// `partman/early_command` (busybox ash): the plan's exact GPT layout, MD arrays,
// PVs/VGs/LVs, every filesystem (the root one too: nothing comes from an image),
// everything mounted under /target and /target/etc/fstab by UUID. Then partman's
// own steps are switched off so it neither redoes nor undoes any of it.
//
// Why a script and not a partman recipe: partman-auto recipes give sizes in
// megabytes (10^6 bytes) that partman rounds to its alignment, never offsets; one
// recipe covers one disk; and LVM over several disks plus MD in one run is out of
// its reach (Fuel's own preseed therefore refused an "os" VG on more than one disk
// and put / and swap on plain partitions — another layout than the image method's).
// The script runs the same argv builders the agent runs (agent/tools/*), adapted
// only where the installer's tools differ (see installerMkfsArgv, lvmArgv).
//
// Pure: renders text from a Plan, touches nothing.
import { fstabEntries, mountDepth, renderFstab } from '../../agent/bootloader/fstab.js';
import { targetPath } from '../../agent/bootloader/target-path.js';
import { ForgeError } from '../../agent/core/errors.js';
import { MiB } from '../../agent/plan/geometry.js';
import { GUID } from '../../agent/plan/guids.js';
import { TYPE_GUID, typeGuidFor, wantsLegacyBoot } from '../../agent/plan/type-guid.js';
import type { Plan, PlannedDisk, PlannedFs, PlannedPartition } from '../../agent/plan/types.js';
import { wipeRanges } from '../../agent/partition/wipe-new.js';
import { lvcreateArgv, pvcreateArgv, vgcreateArgv } from '../../agent/tools/lvm.js';
import { mdCreateArgv } from '../../agent/tools/mdadm.js';
import { shellQuote } from '../deploy/ssh.js';
import { mkfsArgv } from '../../agent/tools/mkfs.js';

/** Where both scripts log (in the installer; the late script copies it into the target). */
export const CLASSIC_LOG = '/var/log/fuel-forge-classic.log';
/** Installer-side state: the early script's copy of the fstab, which the late script re-checks the target's against. */
export const STATE_DIR = '/var/lib/fuel-forge';
/** partman-base runs every script in these directories only when it is executable (`[ -x $s ]`). */
export const PARTMAN_STEP_DIRS = ['init.d', 'display.d', 'check.d', 'commit.d', 'finish.d'] as const;
/** The init script that ran us (partman-base 226): left alone, it has already run. */
const EARLY_COMMAND_SCRIPT = '/lib/partman/init.d/01early_command';

export const shArgv = (argv: readonly string[]): string => argv.map(shellQuote).join(' ');

/** A logged, checked command line (the `run` function of scriptPrelude). */
export const runLine = (argv: readonly string[]): string => `run ${shArgv(argv)}`;

/**
 * The shell functions both scripts use. FORGE_TARGET, FORGE_STATE, FORGE_LOG (and
 * FORGE_PARTMAN in the early script) exist so tests can run a script, or a part of
 * one, against scratch directories; in the installer they are never set.
 */
export function scriptPrelude(phase: 'early' | 'late'): string[] {
  return [
    '#!/bin/sh',
    `# fuel-forge classic install, ${phase} script (generated from the provisioning plan by lab/classic)`,
    'set -e',
    'T="${FORGE_TARGET:-/target}"',
    `S="\${FORGE_STATE:-${STATE_DIR}}"`,
    `LOG="\${FORGE_LOG:-${CLASSIC_LOG}}"`,
    `log() { logger -t fuel-forge "${phase}: $*" 2>/dev/null || true; echo "$(date -u +%H:%M:%S) ${phase}: $*" >>"$LOG"; }`,
    // Output goes to our log (copied into the target at the end); the verdict to syslog too.
    'run() { log "run: $*"; "$@" >>"$LOG" 2>&1 || { rc=$?; log "failed (exit $rc): $*"; exit "$rc"; }; }',
    // udev creates partition, md and dm nodes asynchronously.
    'wait_node() { n=0; until [ -b "$1" ]; do n=$((n + 1)); if [ "$n" -gt 60 ]; then log "no device node $1 after 60 s"; exit 1; fi; udevadm settle --timeout=5 >/dev/null 2>&1 || true; [ -b "$1" ] || sleep 1; done; }',
  ];
}

// ---- partitions ------------------------------------------------------------

/** parted 3.5 (bookworm's parted-udeb) flags that set exactly the type GUID typeGuidFor() gives. */
const FLAG_FOR_GUID: ReadonlyMap<string, string> = new Map([
  [TYPE_GUID.biosBoot, 'bios_grub'],
  [TYPE_GUID.esp, 'esp'],
  [TYPE_GUID.linuxRaid, 'raid'],
  [TYPE_GUID.linuxLvm, 'lvm'],
  [GUID.swap, 'swap'],
]);

/**
 * Partitions whose type GUID parted cannot write (it has no `type` command before
 * 3.6): Ceph/Swift GUIDs from the data. The late script sets them with sgdisk in
 * the target; parted leaves them "Linux filesystem data" until then.
 */
export function typeFixes(plan: Plan): { disk: string; num: number; guid: string }[] {
  return plan.parteds.flatMap((d) =>
    d.partitions
      .map((p) => ({ disk: d.device, num: p.num, guid: typeGuidFor(p) }))
      .filter((f) => f.guid !== TYPE_GUID.linuxFs && !FLAG_FOR_GUID.has(f.guid)),
  );
}

/**
 * parted's own tokenizer splits every argv word at spaces and honours quotes, with
 * backslash escapes inside them; an empty quoted word vanishes, so an empty name
 * would shift `mkpart`'s arguments.
 */
export function partedName(p: PlannedPartition, field: string): string {
  if (p.name === '') {
    throw new ForgeError('CONFIG_INVALID', `partition ${p.device} has an empty GPT name, which parted cannot write`, { field });
  }
  return `"${p.name.replace(/[\\"]/g, '\\$&')}"`;
}

/** One parted call per disk: new GPT, every partition at its planned MiB offsets, then the flags. */
export function partedArgv(disk: PlannedDisk, field: string): string[] {
  // -a none: the plan's offsets are already aligned; parted must not move them.
  // With a MiB unit parted takes the end as exclusive (end*2048-1 on 512-byte sectors), as the plan does.
  const argv = ['parted', '-s', '-a', 'none', disk.device, 'mklabel', 'gpt'];
  disk.partitions.forEach((p, j) => argv.push('mkpart', partedName(p, `${field}.partitions[${j}].name`), `${p.begin}MiB`, `${p.end}MiB`));
  for (const p of disk.partitions) {
    const flag = FLAG_FOR_GUID.get(typeGuidFor(p));
    if (flag) argv.push('set', String(p.num), flag, 'on');
    if (wantsLegacyBoot(p)) argv.push('set', String(p.num), 'legacy_boot', 'on');
  }
  return argv;
}

// ---- installer tool differences ---------------------------------------------

/** Through the `lvm` binary itself: it takes every command, whichever per-command links the udeb carries. */
const lvmArgv = (argv: readonly string[]): string[] => ['lvm', ...argv];

/**
 * mkfsArgv, adapted to the installer: its only mkswap is busybox's (knows -L, not
 * -f), and FAT is made with mkfs.fat, dosfstools' own name for it (partman-efi
 * uses it too; mkfs.vfat is a compatibility link).
 */
export function installerMkfsArgv(fs: PlannedFs): string[] {
  const argv = mkfsArgv({ device: fs.device, type: fs.type, ...(fs.label ? { label: fs.label } : {}), options: fs.mkfsOptions });
  if (fs.type === 'swap') return argv.filter((a, i) => !(a === '-f' && i === 1));
  if (fs.type === 'vfat') return ['mkfs.fat', ...argv.slice(1)];
  return argv;
}

/** md personalities to load (raid5 and raid6 share raid456). */
const mdModule = (level: string): string => (level === 'raid5' || level === 'raid6' ? 'raid456' : level);

// ---- target paths ------------------------------------------------------------

/** A mount point under "$T", validated like the agent's target paths ("/../etc" is refused). */
export function targetWord(mount: string): string {
  const rel = targetPath('/target', mount).slice('/target'.length);
  return rel === '' ? '"$T"' : `"$T"${shellQuote(rel)}`;
}

export function mountable(plan: Plan): PlannedFs[] {
  return plan.fss.filter((f) => f.type !== 'swap' && f.mount.startsWith('/')).sort((a, b) => mountDepth(a.mount) - mountDepth(b.mount));
}

const uuidMark = (i: number): string => `@FORGE_UUID_${i}@`;

/** fstab exactly as the agent's bootloader step renders it, with placeholders for the UUIDs blkid reports at install time. */
export function fstabTemplate(plan: Plan): { text: string; marks: { device: string; mark: string }[] } {
  const devices = [...new Set(plan.fss.filter((f) => f.type === 'swap' || f.mount.startsWith('/')).map((f) => f.device))];
  const marks = devices.map((device, i) => ({ device, mark: uuidMark(i + 1) }));
  const text = renderFstab(fstabEntries(plan.fss, new Map(marks.map((m) => [m.device, m.mark]))));
  return { text, marks };
}

/** Writes `content` verbatim (printf, single-quoted: nothing in it is expanded). */
export function putLine(path: string, content: string): string {
  return `printf '%s' ${shellQuote(content)} >${path}`;
}

// ---- the early script ---------------------------------------------------------

export function earlyScript(plan: Plan): string {
  const L = scriptPrelude('early');
  L.push(`trap 'rc=$?; if [ "$rc" -ne 0 ]; then log "FAILED (exit $rc)"; fi' EXIT`);
  L.push(
    `log ${shellQuote(`start: ${plan.parteds.length} disks, ${plan.mds.length} arrays, ${plan.vgs.length} VGs, ${plan.lvs.length} LVs, ${plan.fss.length} filesystems`)}`,
  );

  // Modules may be built in or already loaded: best effort, a real lack fails below.
  const modules = [...(plan.mds.length ? ['md_mod', ...new Set(plan.mds.map((m) => mdModule(m.level)))] : []), ...(plan.vgs.length ? ['dm_mod'] : [])];
  for (const m of modules) L.push(`modprobe ${m} >/dev/null 2>&1 || true`);

  L.push('', '# Old state off the disks: nothing is kept in classic mode.');
  L.push('lvm vgchange -an >>"$LOG" 2>&1 || log "vgchange -an failed (no LVM?)"');
  L.push('mdadm --stop --scan >>"$LOG" 2>&1 || log "mdadm --stop --scan failed (no arrays?)"');
  for (const d of plan.parteds) {
    // Both GPT headers, and both ends of every planned partition (old MD 1.0
    // superblocks at the end, LVM labels and filesystems at the start), as the agent's wipe-new step.
    L.push(runLine(['dd', 'if=/dev/zero', `of=${d.device}`, 'bs=1M', 'count=1', 'conv=fsync']));
    L.push(`sectors=$(blockdev --getsz ${shellQuote(d.device)})`);
    L.push(`run dd if=/dev/zero of=${shellQuote(d.device)} bs=512 "seek=$((sectors - 2048))" count=2048 conv=fsync`);
    for (const p of d.partitions) {
      for (const r of wipeRanges(p.size)) {
        L.push(runLine(['dd', 'if=/dev/zero', `of=${d.device}`, 'bs=1M', `seek=${p.begin + r.offset / MiB}`, `count=${r.length / MiB}`, 'conv=fsync']));
      }
    }
  }

  L.push('', '# GPT at the planned offsets.');
  plan.parteds.forEach((d, i) => {
    L.push(runLine(partedArgv(d, `parteds[${i}]`)));
  });
  L.push('udevadm settle --timeout=30 >/dev/null 2>&1 || true');
  for (const d of plan.parteds) for (const p of d.partitions) L.push(`wait_node ${shellQuote(p.device)}`);

  if (plan.mds.length) L.push('', '# MD arrays.');
  for (const md of plan.mds) {
    L.push(runLine(mdCreateArgv({ device: md.device, name: md.name, level: md.level, metadata: md.metadata, members: md.members })));
    L.push(`wait_node ${shellQuote(md.device)}`);
  }

  if (plan.pvs.length) L.push('', '# LVM: PVs, VGs, LVs.');
  for (const pv of plan.pvs) L.push(runLine(lvmArgv(pvcreateArgv(pv.device, pv.metadataSize, pv.metadataCopies))));
  for (const vg of plan.vgs) L.push(runLine(lvmArgv(vgcreateArgv(vg.name, vg.pvs))));
  for (const lv of plan.lvs) {
    L.push(runLine(lvmArgv(lvcreateArgv(lv.vg, lv.name, lv.size))));
    L.push(`wait_node ${shellQuote(lv.device)}`);
  }

  L.push('', '# Filesystems and swap (the root filesystem too: no image in classic mode).');
  for (const fs of plan.fss) {
    L.push(`wait_node ${shellQuote(fs.device)}`);
    L.push(runLine(installerMkfsArgv(fs)));
  }

  L.push('', '# Mounted under the target, / first; swap on.');
  for (const fs of mountable(plan)) {
    L.push(`mkdir -p ${targetWord(fs.mount)}`);
    L.push(`run mount -t ${shellQuote(fs.type)} ${shellQuote(fs.device)} ${targetWord(fs.mount)}`);
  }
  for (const fs of plan.fss.filter((f) => f.type === 'swap')) L.push(runLine(['swapon', fs.device]));

  L.push('', '# fstab by UUID, rendered as the agent renders it.');
  const { text, marks } = fstabTemplate(plan);
  L.push('mkdir -p "$S" "$T/etc"');
  L.push(putLine('"$S/fstab"', text));
  for (const m of marks) {
    L.push(`u=$(blkid -c /dev/null -s UUID -o value ${shellQuote(m.device)}) || u=''`);
    L.push(`case "$u" in ''|*[!0-9A-Fa-f-]*) log ${shellQuote(`no filesystem UUID on ${m.device}`)}; exit 1 ;; esac`);
    L.push(`sed -i "s/${m.mark}/$u/" "$S/fstab"`);
  }
  L.push('run cp "$S/fstab" "$T/etc/fstab"');

  L.push('', "# partman must neither redo nor undo this: its steps run only when executable.");
  L.push(`for d in ${PARTMAN_STEP_DIRS.join(' ')}; do`);
  L.push('  for s in "${FORGE_PARTMAN:-/lib/partman}/$d"/*; do');
  L.push('    [ -f "$s" ] || continue');
  L.push(`    case "$s" in */init.d/${EARLY_COMMAND_SCRIPT.split('/').pop()}) continue ;; esac`);
  L.push('    chmod -x "$s"');
  L.push('  done');
  L.push('done');
  L.push('log "done: layout created, target mounted, partman disabled"');
  return L.join('\n') + '\n';
}

/** The plan's layout as `#` lines (ignored by every preseed reader; strings JSON-quoted so none can break a line). */
export function layoutComments(plan: Plan): string[] {
  const q = (s: string) => JSON.stringify(s);
  const out: string[] = [];
  for (const d of plan.parteds) {
    out.push(`# disk ${q(d.device)} (ks_spaces id ${q(d.id)}): GPT`);
    for (const p of d.partitions) {
      out.push(`#   ${p.num} ${p.begin}-${p.end} MiB ${q(p.name)} ${q(p.role)}${p.flags.length ? ` [${p.flags.join(',')}]` : ''} type ${typeGuidFor(p)}`);
    }
  }
  for (const md of plan.mds) out.push(`# md ${q(md.device)} ${md.level} metadata ${md.metadata}: ${md.members.map(q).join(' ')}`);
  for (const vg of plan.vgs) out.push(`# vg ${q(vg.name)}: ${vg.pvs.map(q).join(' ')}`);
  for (const lv of plan.lvs) out.push(`# lv ${q(lv.device)} ${lv.size} MiB`);
  for (const fs of plan.fss) out.push(`# fs ${q(fs.device)} ${fs.type} on ${q(fs.mount)}`);
  return out;
}
