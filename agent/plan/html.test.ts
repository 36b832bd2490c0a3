// The plan's disks as HTML: every planned partition drawn with its size and role,
// arrays and VGs stacked under the disks they use, user text escaped, and a
// read-back table that differs from the plan marked where it differs.
import { describe, expect, it } from 'vitest';
import { buildPlan } from './build.js';
import { loadScenario } from './fixtures.js';
import { GUID } from './guids.js';
import { diffPartitions, esc, foundDiskHtml, planHtmlPage, type FoundDisk } from './html.js';
import { typeGuidFor } from './type-guid.js';
import type { Plan, PlannedDisk } from './types.js';

/** Opening tags that carry `attr`, each as its attributes (values unescaped). */
function tagsWith(html: string, attr: string): Record<string, string>[] {
  const unesc = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  return [...html.matchAll(/<[a-z]+\s([^>]*)>/g)]
    .map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, unesc(a[2]!)])))
    .filter((a) => attr in a);
}

const scenarioPlan = async (): Promise<Plan> => {
  const { data, inventory } = await loadScenario('two-disks-raid-lvm');
  return buildPlan(data, inventory);
};

/** The table the plan's executor would write, as sfdisk reads it (512-byte sectors). */
function asWritten(d: PlannedDisk): FoundDisk {
  return {
    label: 'gpt',
    sectorSize: 512,
    partitions: d.partitions.map((p) => ({ node: `/tmp/disk.raw${p.num}`, start: p.begin * 2048, size: p.size * 2048, type: typeGuidFor(p), name: p.name })),
  };
}

describe('planHtmlPage', () => {
  it('draws every planned partition of every disk with its size, role and mount, and stacks RAID and LVM', async () => {
    const plan = await scenarioPlan();
    const html = planHtmlPage(plan, 'two disks');
    const drawn = tagsWith(html, 'data-part');
    const planned = plan.parteds.flatMap((d) => d.partitions.map((p) => ({ disk: d.device, part: p.device, role: p.role, size: String(p.size) })));
    expect(drawn.map((a) => ({ disk: a['data-disk'], part: a['data-part'], role: a['data-role'], size: a['data-size-mib'] }))).toEqual(planned);
    expect(drawn.every((a) => a['data-side'] === 'planned')).toBe(true);
    // The RAID members carry the array's mount; the md is stacked under both disks.
    expect(drawn.filter((a) => a['data-mount'] === '/boot').map((a) => a['data-part'])).toEqual(['/dev/vda3', '/dev/vdb3']);
    expect(tagsWith(html, 'data-md').map((a) => [a['data-md'], a['data-mount']])).toEqual([['Boot', '/boot'], ['Boot', '/boot']]);
    // VG os under both disks, with its LVs' mounts and sizes.
    const lvs = tagsWith(html, 'data-lv').map((a) => `${a['data-lv']} ${a['data-size-mib']} ${a['data-mount']}`);
    expect(lvs).toContain('os/root 2560 /');
    expect(lvs).toContain('os/swap 512 swap');
    expect(lvs).toContain('data-vg/srv-data 1536 /srv');
    // Visible text too, not only attributes: the 24 MiB bios_grub box says what it is.
    expect(html).toMatch(/<span class="num">#1<\/span><span class="size">24 MiB<\/span><span class="what">bios_grub<\/span>/);
    // Self-contained: no scripts, no external resources.
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//i);
  });

  it('escapes names from the data in text and in attributes', async () => {
    const plan = structuredClone(await scenarioPlan());
    const hostile = `<img src=x onerror="alert(1)">&'`;
    plan.parteds[0]!.partitions[1]!.name = hostile;
    plan.parteds[0]!.partitions[1]!.role = hostile;
    plan.lvs[0]!.name = hostile;
    plan.warnings = [{ field: hostile, message: hostile }];
    const html = planHtmlPage(plan, hostile);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('onerror="');
    expect(html).toContain('&#60;img src=x onerror=&#34;alert(1)&#34;&#62;&#38;&#39;');
    // The attribute round-trips to the original text.
    expect(tagsWith(html, 'data-part').find((a) => a['data-part'] === '/dev/vda2')?.['data-role']).toBe(hostile);
    expect(esc(`a"b'c<d>&`)).toBe('a&#34;b&#39;c&#60;d&#62;&#38;');
  });
});

describe('foundDiskHtml', () => {
  it('marks nothing when the disk holds exactly the plan', async () => {
    const d = (await scenarioPlan()).parteds[0]!;
    expect(diffPartitions(asWritten(d), d).every((f) => f.diffs.length === 0)).toBe(true);
    const html = foundDiskHtml(asWritten(d), d);
    expect(tagsWith(html, 'data-part').map((a) => [a['data-part'], a['data-size-mib'], a['data-side']])).toEqual(d.partitions.map((p) => [p.device, String(p.size), 'found']));
    expect(tagsWith(html, 'data-diff')).toEqual([]);
  });

  it('flags a moved, a resized, a retyped, a missing and an extra partition', async () => {
    const d = (await scenarioPlan()).parteds[0]!;
    const view = asWritten(d);
    const parts = view.partitions.map((p) => ({ ...p }));
    parts[1]!.start += 2048; // #2 starts 1 MiB later
    parts[2]!.size -= 2048; // #3 is 1 MiB smaller
    parts[3]!.type = GUID.linux.toLowerCase(); // #4 is not an LVM partition
    parts.splice(4, 1); // #5 is gone
    parts.push({ node: '/tmp/disk.raw9', start: 3800 * 2048, size: 100 * 2048, type: GUID.linux, name: 'stray' });
    const html = foundDiskHtml({ ...view, partitions: parts, label: 'dos' }, d);
    const diffs = Object.fromEntries(tagsWith(html, 'data-diff').map((a) => [a['data-part'] ?? 'disk', a['data-diff']]));
    expect(diffs).toEqual({ disk: 'label', '/dev/vda2': 'start', '/dev/vda3': 'size', '/dev/vda4': 'type', '/dev/vda5': 'missing', '/dev/vda9': 'extra' });
    // Visible: the marked boxes are outlined (class diff) or dashed placeholders (missing).
    expect(html.match(/class="seg part [^"]*\bdiff\b/g)).toHaveLength(5);
    expect(html).toMatch(/class="seg part missing diff"[^>]*data-part="\/dev\/vda5"/);
  });

  it('converts 4096-byte sectors to MiB', () => {
    const html = foundDiskHtml({ label: 'gpt', sectorSize: 4096, partitions: [{ node: '/dev/loop1p1', start: 256, size: 25600, type: GUID.linux }] }, undefined, '/dev/loop1');
    expect(tagsWith(html, 'data-part').map((a) => [a['data-part'], a['data-begin-mib'], a['data-size-mib']])).toEqual([['/dev/loop1p1', '1', '100']]);
  });
});
