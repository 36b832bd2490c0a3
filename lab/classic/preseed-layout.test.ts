// The classic early script against the plan it was rendered from: the same
// partitions (read back by parted itself from a sparse file — parted is the
// installer's tool), arrays, PVs/VGs/LVs, filesystems, mounts and fstab.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fstabEntries } from '../../agent/bootloader/fstab.js';
import { buildPlan } from '../../agent/plan/build.js';
import { loadScenario } from '../../agent/plan/fixtures.js';
import { typeGuidFor, wantsLegacyBoot } from '../../agent/plan/type-guid.js';
import type { Plan } from '../../agent/plan/types.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { fuelSamplePlan, scenarioPlan } from './test-plans.js';
import { shellQuote } from '../deploy/ssh.js';
import { earlyScript, mountable, PARTMAN_STEP_DIRS, typeFixes } from './preseed-layout.js';

const PLANS: Record<string, () => Plan | Promise<Plan>> = {
  'single-disk': () => scenarioPlan('single-disk'),
  'two-disks-raid-lvm (MD /boot, VGs os + data-vg)': () => scenarioPlan('two-disks-raid-lvm'),
  'fuel-sample (three disks, VGs os + image)': fuelSamplePlan,
  'esp-single-disk': () => scenarioPlan('esp-single-disk'),
  'nvme-sata': () => scenarioPlan('nvme-sata'),
  'ceph-osd': () => scenarioPlan('ceph-osd'),
  'swift-storage': () => scenarioPlan('swift-storage'),
};

/** POSIX sh words of one line, for the forms shellQuote and the templates write (bare, '…', "…", \x). */
function words(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let s = '';
      for (i++; line[i] !== '"'; i++) s += line[i] === '\\' ? (line[++i] as string) : line[i];
      cur = (cur ?? '') + s;
    } else if (ch === '\\') {
      cur = (cur ?? '') + line[++i];
    } else if (ch === ' ' || ch === '\t') {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + ch;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** argv of every `run …` line, in order. */
const runs = (script: string): string[][] => script.split('\n').filter((l) => l.startsWith('run ')).map((l) => words(l).slice(1));
const tool = (script: string, name: string): string[][] => runs(script).filter((a) => a[0] === name);
const lvm = (script: string, cmd: string): string[][] => tool(script, 'lvm').filter((a) => a[1] === cmd).map((a) => a.slice(1));
const opt = (argv: readonly string[], name: string): string | undefined => argv[argv.indexOf(name) + 1];
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** mkpart triples per disk, parsed back from the parted lines (parted unquotes names itself). */
function mkparts(script: string): Map<string, { name: string; begin: number; end: number }[]> {
  const out = new Map<string, { name: string; begin: number; end: number }[]>();
  for (const a of tool(script, 'parted')) {
    const dev = a[4] as string;
    const parts: { name: string; begin: number; end: number }[] = [];
    a.forEach((w, i) => {
      if (w !== 'mkpart') return;
      parts.push({ name: JSON.parse(a[i + 1] as string) as string, begin: parseInt(a[i + 2] as string, 10), end: parseInt(a[i + 3] as string, 10) });
    });
    out.set(dev, parts);
  }
  return out;
}

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'forge-preseed-layout-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.each(Object.entries(PLANS))('early script for %s', (_name, planOf) => {
  it('creates exactly the planned partitions: same disks, count, names and MiB offsets, in plan order', async () => {
    const plan = await planOf();
    const got = mkparts(earlyScript(plan));
    expect([...got.keys()]).toEqual(plan.parteds.map((d) => d.device));
    for (const d of plan.parteds) {
      expect(got.get(d.device)).toEqual(d.partitions.map((p) => ({ name: p.name, begin: p.begin, end: p.end })));
    }
  });

  it('creates the planned arrays, PVs, VGs and LVs with the planned parameters', async () => {
    const plan = await planOf();
    const s = earlyScript(plan);
    const eq = (argv: readonly string[], name: string) => argv.find((w) => w.startsWith(`${name}=`))?.slice(name.length + 1);
    expect(
      tool(s, 'mdadm').map((a) => ({ device: a[2], level: eq(a, '--level'), n: eq(a, '--raid-devices'), metadata: eq(a, '--metadata'), members: a.filter((w) => w.startsWith('/dev/') && w !== a[2]) })),
    ).toEqual(plan.mds.map((m) => ({ device: m.device, level: m.level, n: String(m.members.length), metadata: m.metadata, members: m.members })));
    expect(lvm(s, 'pvcreate').map((a) => ({ device: a.at(-1), meta: opt(a, '--metadatasize'), copies: opt(a, '--metadatacopies') }))).toEqual(
      plan.pvs.map((p) => ({ device: p.device, meta: `${p.metadataSize}m`, copies: p.metadataCopies === undefined ? undefined : String(p.metadataCopies) })),
    );
    expect(lvm(s, 'vgcreate').map((a) => a.filter((w) => w !== '-y').slice(1))).toEqual(plan.vgs.map((v) => [v.name, ...v.pvs]));
    expect(lvm(s, 'lvcreate').map((a) => ({ vg: a.at(-1), name: opt(a, '-n'), size: opt(a, '-L') }))).toEqual(plan.lvs.map((l) => ({ vg: l.vg, name: l.name, size: `${l.size}m` })));
  });

  it('makes every planned filesystem (the root one too) and swap, with its label and options', async () => {
    const plan = await planOf();
    const s = earlyScript(plan);
    const made = runs(s).filter((a) => /^mkfs\.|^mkswap$/.test(a[0] as string));
    const cmd = { ext2: 'mkfs.ext2', ext3: 'mkfs.ext3', ext4: 'mkfs.ext4', xfs: 'mkfs.xfs', vfat: 'mkfs.fat', swap: 'mkswap' } as const;
    expect(made.map((a) => [a[0], a.at(-1)])).toEqual(plan.fss.map((f) => [cmd[f.type], f.device]));
    plan.fss.forEach((f, i) => {
      const argv = made[i] as string[];
      if (f.label) expect(argv.join(' ')).toContain(`${f.type === 'vfat' ? '-n' : '-L'} ${f.label}`);
      for (const o of f.mkfsOptions) expect(argv).toContain(o);
      // busybox mkswap (the installer's only one) refuses -f.
      if (f.type === 'swap') expect(argv).not.toContain('-f');
    });
  });

  it('mounts every mountable filesystem under the target, / first and parents before children, and turns swap on', async () => {
    const plan = await planOf();
    const s = earlyScript(plan);
    const mounts = tool(s, 'mount').map((a) => ({ device: a[3], at: a[4] }));
    const T = '$T';
    expect(mounts).toEqual(mountable(plan).map((f) => ({ device: f.device, at: f.mount === '/' ? T : `${T}${f.mount}` })));
    expect(mounts[0]).toEqual({ device: plan.fss.find((f) => f.mount === '/')?.device, at: T });
    const at = mounts.map((m) => m.at as string);
    at.forEach((p, i) => at.slice(i + 1).forEach((q) => expect(p.startsWith(`${q}/`)).toBe(false)));
    expect(tool(s, 'swapon').map((a) => a[1])).toEqual(plan.fss.filter((f) => f.type === 'swap').map((f) => f.device));
  });

  it('writes an fstab line per mounted filesystem and swap, by UUID, in the agent\'s order', async () => {
    const plan = await planOf();
    const s = earlyScript(plan);
    const text = /printf '%s' '(# \/etc\/fstab[^']*)' >"\$S\/fstab"/.exec(s)?.[1] ?? '';
    const lines = text.split('\n').filter((l) => l.startsWith('UUID='));
    const marks = new Map([...s.matchAll(/blkid -c \/dev\/null -s UUID -o value (\S+)\) \|\| u=''\ncase[^\n]*\nsed -i "s\/(@FORGE_UUID_\d+@)\//g)].map((m) => [m[2] as string, m[1] as string]));
    const want = fstabEntries(plan.fss, new Map());
    expect(lines.map((l) => l.split('\t').slice(1, 5))).toEqual(want.map((e) => [e.mount, e.type, e.options, '0']));
    lines.forEach((l, i) => expect(marks.get((l.split('\t')[0] as string).slice(5))).toBe(want[i]?.device));
    expect(lines[0]?.split('\t')[1]).toBe('/');
  });

  it('is valid POSIX sh (dash -n)', async () => {
    const r = spawnSync('dash', ['-n'], { input: earlyScript(await planOf()) });
    expect(r.stderr.toString()).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!has('parted') || !has('sfdisk'))('parted writes exactly the plan\'s GPT (offsets, type GUIDs, names, legacy-boot) — read back with sfdisk', async () => {
    const plan = await planOf();
    const s = earlyScript(plan);
    for (const [i, d] of plan.parteds.entries()) {
      const file = join(tmp, `${i}-${d.device.replaceAll('/', '_')}.img`);
      writeFileSync(file, '');
      spawnSync('truncate', ['-s', `${d.size}M`, file]);
      const line = s.split('\n').find((l) => l.startsWith(`run parted -s -a none ${shellQuote(d.device)} `)) as string;
      const r = spawnSync('sh', ['-c', `run() { "$@"; }; ${line.replace(` ${shellQuote(d.device)} `, ` ${shellQuote(file)} `)}`]);
      expect(r.stderr.toString()).toBe('');
      const table = JSON.parse(spawnSync('sfdisk', ['--json', file]).stdout.toString()).partitiontable;
      const fixed = new Set(typeFixes(plan).filter((f) => f.disk === d.device).map((f) => f.num));
      expect(table.partitions.map((p: any) => ({ start: p.start, size: p.size, type: p.type, name: p.name, legacy: p.attrs === 'LegacyBIOSBootable' }))).toEqual(
        d.partitions.map((p) => ({
          start: p.begin * 2048,
          size: (p.end - p.begin) * 2048,
          // Data GUIDs parted cannot write stay "Linux filesystem" until the late script's sgdisk.
          type: fixed.has(p.num) ? '0FC63DAF-8483-4772-8E79-3D69D8477DE4' : typeGuidFor(p),
          name: p.name,
          legacy: wantsLegacyBoot(p),
        })),
      );
    }
  });
});

describe('early script details', () => {
  it('zeroes both ends of every planned disk and of every planned partition before the new table', async () => {
    const plan = await scenarioPlan('two-disks-raid-lvm');
    const s = earlyScript(plan);
    const dd = tool(s, 'dd').map((a) => a.filter((w) => /^(of|seek|count)=/.test(w)).join(' '));
    for (const d of plan.parteds) {
      expect(dd).toContain(`of=${d.device} count=1`);
      for (const p of d.partitions) {
        expect(dd).toContain(`of=${d.device} seek=${p.begin} count=1`);
        expect(dd).toContain(`of=${d.device} seek=${p.end - 1} count=1`);
      }
    }
    expect(s.indexOf('run dd')).toBeLessThan(s.indexOf('run parted'));
    expect(s).toMatch(/blockdev --getsz \/dev\/vda\)\nrun dd if=\/dev\/zero of=\/dev\/vda bs=512 "seek=\$\(\(sectors - 2048\)\)" count=2048/);
  });

  it('leaves type GUIDs parted cannot write (Ceph journal/OSD, Swift) to the late script', async () => {
    expect(typeFixes(await scenarioPlan('ceph-osd')).map((f) => `${f.disk}:${f.num}:${f.guid}`)).toEqual([
      '/dev/vda:5:45B0969E-9B03-4F30-B4C6-B4B80CEFF106',
      '/dev/vda:6:45B0969E-9B03-4F30-B4C6-B4B80CEFF106',
      '/dev/vdb:3:4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D',
      '/dev/vdc:3:4FBD7E29-9D25-41B8-AFD0-062C0CEFF05D',
    ]);
    expect(typeFixes(await scenarioPlan('two-disks-raid-lvm'))).toEqual([]);
  });

  it('switches off every partman step script except the one running it (partman runs only executable ones)', async () => {
    const s = earlyScript(await scenarioPlan('single-disk'));
    const block = s.slice(s.indexOf('for d in init.d'), s.indexOf('log "done'));
    const root = join(tmp, 'partman');
    const files = ['init.d/01early_command', 'init.d/30parted', 'init.d/35dump', 'display.d/80manual_partitioning', 'check.d/10x', 'commit.d/30parted', 'finish.d/80parted', 'undo.d/30parted'];
    for (const f of files) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '#!/bin/sh\n');
      chmodSync(join(root, f), 0o755);
    }
    expect(PARTMAN_STEP_DIRS).toEqual(['init.d', 'display.d', 'check.d', 'commit.d', 'finish.d']);
    const r = spawnSync('dash', ['-c', block], { env: { ...process.env, FORGE_PARTMAN: root } });
    expect(r.status).toBe(0);
    const exec = (f: string) => (statSync(join(root, f)).mode & 0o111) !== 0;
    expect(Object.fromEntries(files.map((f) => [f, exec(f)]))).toEqual({
      'init.d/01early_command': true,
      'init.d/30parted': false,
      'init.d/35dump': false,
      'display.d/80manual_partitioning': false,
      'check.d/10x': false,
      'commit.d/30parted': false,
      'finish.d/80parted': false,
      'undo.d/30parted': true,
    });
  });

  it.skipIf(!has('parted') || !has('sfdisk'))('a partition name from the data reaches the GPT verbatim and runs nothing', async () => {
    const { data, inventory } = await loadScenario('single-disk');
    // Run from tmp: if quoting failed, `touch p` would leave tmp/p behind.
    const hostile = `Bo"ot '$(touch p)' \\x; \`touch p\``;
    const edited = structuredClone(data) as any;
    edited.ks_meta.pm_data.ks_spaces[0].volumes[1].name = hostile;
    const plan = buildPlan(parseProvisionData(edited), inventory);
    const d = plan.parteds[0]!;
    const line = earlyScript(plan).split('\n').find((l) => l.startsWith('run parted')) as string;
    const file = join(tmp, 'hostile.img');
    writeFileSync(file, '');
    spawnSync('truncate', ['-s', `${d.size}M`, file]);
    const r = spawnSync('sh', ['-c', `run() { "$@"; }; ${line.replace(` ${shellQuote(d.device)} `, ` ${shellQuote(file)} `)}`], { cwd: tmp });
    expect(r.stderr.toString()).toBe('');
    const names = JSON.parse(spawnSync('sfdisk', ['--json', file]).stdout.toString()).partitiontable.partitions.map((p: any) => p.name);
    expect(names).toContain(hostile);
    expect(() => statSync(join(tmp, 'p'))).toThrow();
  });

  it('refuses an empty partition name (parted would drop the word and shift mkpart\'s arguments)', async () => {
    const plan = await scenarioPlan('single-disk');
    plan.parteds[0]!.partitions[2]!.name = '';
    expect(() => earlyScript(plan)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', field: 'parteds[0].partitions[2].name' }));
  });
});
