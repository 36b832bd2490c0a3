// grub-probe with its answers remembered for the agent's GRUB calls. grub-mkconfig
// asks grub-probe some questions more than once (on a two-disk RAID1 /boot + LVM /
// node: 15 calls, 3 of them repeats — the root's fs_uuid and abstraction, /boot's
// fs_uuid), and every call scans each disk again: ~3 s each under TCG, far less on
// hardware. Nothing changes the disks while GRUB runs, so the same argv gets the same
// answer. A copy of the real binary goes into a directory under the host's /run (the
// chroot sees it through its /run bind), a small bash script is bound over the
// target's grub-probe, and the mount stack undoes that: nothing on the disk changes.
// A copy, not a bind: on a host whose mounts are shared (systemd's), a bind of the
// binary is a peer of the target's mount, so the script bound over the binary a moment
// later would be propagated over that bind too, and call itself (seen: a fork storm).
import { copyFile, chmod, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Ctx } from '../core/context.js';
import { parseProcMounts, type MountStack, type ProcMount } from '../tools/mount.js';
import { targetToolFiles } from './target-path.js';

/** Where the memo lives: the host's /run, which the chroot binds at its own /run (install.ts). */
export const HOST_RUN = '/run';

/**
 * The wrapper: argv (count and words, joined by the unit separator) is the key; a
 * known key replays the recorded stdout, stderr and exit status with bash builtins
 * only (no fork: each costs tens of milliseconds under emulation), an unknown one
 * runs the real grub-probe and records it. grub-probe prints text: no NUL bytes.
 */
export function memoScript(dir: string): string {
  if (!/^\/[\w./-]+$/.test(dir)) throw new Error(`grub-probe memo directory not a plain absolute path: ${dir}`);
  return `#!/bin/bash
# grub-probe's answers remembered for one GRUB configuration by fuel-forge (agent/bootloader/grub-probe-memo.ts)
d=${dir}
IFS=$'\\x1f'
key="$#$IFS$*"
replay() {
  local out='' err='' rc=1
  IFS= read -r -d '' out < "$d/$1.out"
  IFS= read -r -d '' err < "$d/$1.err"
  IFS= read -r rc < "$d/$1.rc"
  printf '%s' "$out"
  printf '%s' "$err" >&2
  exit "$rc"
}
n=0
while [[ -e $d/$n.key ]]; do
  seen=''
  IFS= read -r -d '' seen < "$d/$n.key"
  [[ $seen == "$key" ]] && replay "$n"
  n=$((n + 1))
done
"$d/grub-probe" "$@" > "$d/$n.out" 2> "$d/$n.err"
printf '%s\\n' "$?" > "$d/$n.rc"
# The key last: an entry is complete once its key is there.
printf '%s' "$key" > "$d/$n.key"
replay "$n"
`;
}

/** The options of the mount holding `path` (the deepest mount point above it), from /proc/self/mounts' text. */
export function mountOptionsAt(mounts: string, path: string): string[] | undefined {
  let best: ProcMount | undefined;
  for (const m of parseProcMounts(mounts)) {
    if (!m.options.length) continue;
    const holds = m.target === '/' || path === m.target || path.startsWith(`${m.target}/`);
    // A later line for the same point is the mount on top.
    if (holds && (!best || m.target.length >= best.target.length)) best = m;
  }
  return best?.options;
}

/**
 * Binds the memo over the target's grub-probe until `stack` is disposed. Returns the
 * paths it covers (as the chroot sees them); none when the host's /run is mounted
 * noexec (a bind keeps its source's flags: the script could not run, and GRUB with it).
 */
export async function memoizeGrubProbe(ctx: Ctx, stack: MountStack, root: string, hostRun = HOST_RUN, mounts = '/proc/self/mounts'): Promise<string[]> {
  const files = ctx.dryRun ? ['usr/sbin/grub-probe'] : await targetToolFiles(root, 'grub-probe');
  const [real] = files;
  if (!real) return [];
  // The memo is a bash script run inside the chroot: an image without bash keeps grub-probe as it is.
  if (!ctx.dryRun && !(await targetToolFiles(root, 'bash')).length) {
    ctx.log.info('bootloader.grub_probe_memo_skipped', { why: 'the target has no bash' });
    return [];
  }
  if (!ctx.dryRun && mountOptionsAt(await readFile(mounts, 'utf8'), hostRun)?.includes('noexec')) {
    ctx.log.info('bootloader.grub_probe_memo_skipped', { why: `${hostRun} is mounted noexec: a script bound from there could not run` });
    return [];
  }
  // Removed after the binds below are undone (the stack unwinds in reverse); a dry run makes none.
  const dir = ctx.dryRun ? join(hostRun, 'forge-grub-probe-XXXXXX') : await stack.tempDir('forge-grub-probe-', hostRun);
  const inChroot = join('/run', basename(dir));
  if (!ctx.dryRun) {
    await copyFile(join(root, real), join(dir, 'grub-probe'));
    await chmod(join(dir, 'grub-probe'), 0o755);
    await writeFile(join(dir, 'memo'), memoScript(inChroot), { mode: 0o755 });
  }
  for (const f of files) await stack.mount(join(dir, 'memo'), join(root, f), { bind: true });
  ctx.log.info('bootloader.grub_probe_memo', {
    paths: files.map((f) => `/${f}`),
    dir: inChroot,
    why: 'grub-mkconfig asks grub-probe some questions more than once; each answer scans every disk again',
  });
  return files.map((f) => `/${f}`);
}
