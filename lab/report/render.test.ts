// The run report page from a hand-built RunReport: two nodes whose stages
// overlap, one failing check, one digest mismatch, hostile strings everywhere.
// Asserted on the HTML itself (data attributes, escaped text, no external
// resources); lab/report/browser.test.ts opens such a page in Chromium.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../agent/plan/build.js';
import { loadScenario } from '../../agent/plan/fixtures.js';
import { typeGuidFor } from '../../agent/plan/type-guid.js';
import type { Plan, PlannedDisk } from '../../agent/plan/types.js';
import type { HostDiskView } from '../verify/host-disk.js';
import { REPORT_VERSION, type RunReport } from './model.js';
import { placeStages, renderRunReport, writeRunReport } from './render.js';

const HOSTILE = `</pre><script>alert("x")</script><img src=x onerror='y'>&amp;`;

/** Opening tags that carry `attr`, each as its attributes (values unescaped). */
function tagsWith(html: string, attr: string): Record<string, string>[] {
  const unesc = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  return [...html.matchAll(/<[a-z]+\s([^>]*)>/g)]
    .map((m) => Object.fromEntries([...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, unesc(a[2]!)])))
    .filter((a) => attr in a);
}

/** One node's section of the page. */
const section = (html: string, node: string): string => {
  const start = html.indexOf(`<section class="node" data-node="${node}"`);
  expect(start, node).toBeGreaterThan(0);
  return html.slice(start, html.indexOf('</section>', start));
};

const asWritten = (d: PlannedDisk): HostDiskView => ({
  label: 'gpt',
  sectorSize: 512,
  partitions: d.partitions.map((p) => ({ node: `/tmp/n.raw${p.num}`, start: p.begin * 2048, size: p.size * 2048, type: typeGuidFor(p), name: p.name })),
});

async function report(): Promise<{ r: RunReport; plan: Plan }> {
  const { data, inventory } = await loadScenario('two-disks-raid-lvm');
  const plan = buildPlan(data, inventory);
  const [a, b] = plan.parteds;
  const shrunk = asWritten(b!);
  shrunk.partitions[4]!.size -= 2048;
  const t = (s: number) => new Date(Date.UTC(2026, 10, 29, 9, 0, s)).toISOString();
  const r: RunReport = {
    version: REPORT_VERSION,
    kind: 'e2e',
    title: `lab e2e ${HOSTILE}`,
    startedAt: t(0),
    rerun: `FORGE_LAB_CASE='a&b' npx vitest run --project vm lab/e2e.test.ts -t "<both nodes>"`,
    stages: [
      { stage: 'master network up', ok: true, startedAt: t(0), ms: 10_000 },
      { stage: 'node-1: PXE boot', ok: true, startedAt: t(10), ms: 40_000 },
      { stage: 'node-2: PXE boot', ok: true, startedAt: t(20), ms: 40_000 },
      { stage: 'node-1: provision', ok: true, startedAt: t(50), ms: 30_000 },
      { stage: `node-2: provision ${HOSTILE}`, ok: false, startedAt: t(60), ms: 15_000, detail: HOSTILE },
      { stage: 'collect logs', ok: true, ms: 5_000 },
    ],
    nodes: [
      {
        name: 'node-1',
        scenario: 'two-disks-raid-lvm',
        method: 'image',
        plan,
        found: [asWritten(a!), asWritten(b!)],
        checks: [
          { name: 'host: GPT label', ok: true, detail: 'label=gpt' },
          { name: 'first boot: hostname', ok: true, detail: 'node-1' },
        ],
        images: [{ target: '/', expected: { md5: 'aa', sha256: 'bb' }, found: { md5: 'AA', sha256: 'bb' } }],
        console: 'Booting\nlogin:',
        agentLog: ['{"event":"run.done"}'],
        ok: true,
      },
      {
        name: 'node-2',
        scenario: 'two-disks-raid-lvm',
        plan,
        found: [asWritten(a!), shrunk],
        checks: [
          { name: 'host: GPT label', ok: true, detail: 'label=gpt' },
          { name: `host: partition 5 ${HOSTILE}`, ok: false, detail: HOSTILE },
        ],
        images: [{ target: '/', expected: { md5: 'aa', sha256: 'bb' }, found: { md5: 'aa', sha256: 'cc' } }],
        console: `kernel panic ${HOSTILE}\nfetch http://user:s3cret@10.20.0.2/img`,
        agentLog: [`{"event":"step.failed","msg":${JSON.stringify(HOSTILE)}}`],
        error: { code: 'IMAGE_CHECKSUM_MISMATCH', message: `sha256 mismatch ${HOSTILE}` },
        ok: false,
      },
    ],
  };
  return { r, plan };
}

describe('renderRunReport', () => {
  it('draws each node: planned and found partitions, verdict cells from the checks, the digest mismatch', async () => {
    const { r, plan } = await report();
    const html = renderRunReport(r);
    expect(tagsWith(html, 'data-node').filter((a) => a['class'] === 'node').map((a) => [a['data-node'], a['data-ok']])).toEqual([['node-1', 'true'], ['node-2', 'false']]);
    const planned = plan.parteds.flatMap((d) => d.partitions.map((p) => `${p.device} ${p.size} ${p.role}`));
    for (const n of r.nodes) {
      const s = section(html, n.name);
      const parts = tagsWith(s, 'data-part');
      expect(parts.filter((p) => p['data-side'] === 'planned').map((p) => `${p['data-part']} ${p['data-size-mib']} ${p['data-role']}`)).toEqual(planned);
      expect(parts.filter((p) => p['data-side'] === 'found').map((p) => p['data-part'])).toEqual(plan.parteds.flatMap((d) => d.partitions.map((p) => p.device)));
      // The verdict cell of each check row, in order.
      const cells = [...s.matchAll(/<tr [^>]*data-check="([^"]*)"><td>[^<]*<\/td><td [^>]*data-verdict="(PASS|FAIL)"/g)].map((m) => m[2]);
      expect(cells).toEqual(n.checks.map((c) => (c.ok ? 'PASS' : 'FAIL')));
    }
    // Only node-2's shrunk /dev/vdb5 is flagged.
    expect(tagsWith(section(html, 'node-1'), 'data-diff')).toEqual([]);
    expect(tagsWith(section(html, 'node-2'), 'data-diff').map((a) => [a['data-part'], a['data-diff']])).toEqual([['/dev/vdb5', 'size']]);
    // Digests: case does not matter; node-2's sha256 differs and is marked.
    expect(tagsWith(html, 'data-algo').map((a) => a['data-match'])).toEqual(['true', 'true', 'true', 'false']);
    expect(section(html, 'node-2')).toMatch(/<tr class="digest m-false"[^>]*>(?:<td[^>]*>[^<]*<\/td>){4}<td>MISMATCH<\/td>/);
    // The failed node's logs are open, the passed node's collapsed.
    expect(section(html, 'node-1')).toMatch(/<details class="tail" data-tail="console"><summary>/);
    expect(section(html, 'node-2')).toMatch(/<details class="tail" data-tail="console" open><summary>/);
    // Header: overall FAIL, kind, the rerun command exactly (escaped once).
    expect(html).toMatch(/<body data-kind="e2e" data-ok="false">/);
    expect(html).toContain(`<code class="rerun" data-field="rerun">FORGE_LAB_CASE=&#39;a&#38;b&#39; npx vitest run --project vm lab/e2e.test.ts -t &#34;&#60;both nodes&#62;&#34;</code>`);
  });

  it('lays stages on one time axis, one row per node, overlapping where the nodes ran together', async () => {
    const { r } = await report();
    const html = renderRunReport(r);
    const bars = tagsWith(html, 'data-stage').filter((a) => a['class']?.startsWith('stage'));
    expect(bars.map((b) => [b['data-row'], b['data-start-ms'], b['data-ok']])).toEqual([
      ['lab', '0', 'true'], ['lab', '75000', 'true'], // 'collect logs' has no startedAt: after the stage before it in the list
      ['node-1', '10000', 'true'], ['node-1', '50000', 'true'],
      ['node-2', '20000', 'true'], ['node-2', '60000', 'false'],
    ]);
    expect(tagsWith(html, 'data-timeline-row').map((a) => a['data-timeline-row'])).toEqual(['lab', 'node-1', 'node-2']);
    // node-1's PXE boot and node-2's overlap on the drawing: same axis, x ranges intersect.
    const x = (stage: string) => {
      const b = bars.find((a) => a['data-stage'] === stage)!;
      return [Number(b['x']), Number(b['x']) + Number(b['width'])] as const;
    };
    const [a0, a1] = x('node-1: PXE boot');
    const [b0, b1] = x('node-2: PXE boot');
    expect(a0 < b0 && b0 < a1 && a1 < b1).toBe(true);
    expect(html).toMatch(/<rect class="stage fail"[^>]*><title>node-2: provision &#60;\/pre&#62;/);
    expect(placeStages([{ stage: 'a', ok: true, ms: 5 }, { stage: 'b', ok: true, ms: 5, startedAt: '2026-01-01T00:00:01.000Z' }], []).map((s) => s.start)).toEqual([0, 5]);
  });

  it('escapes hostile strings, hides URL credentials and references nothing outside the file', async () => {
    const html = renderRunReport((await report()).r);
    expect(html).not.toMatch(/<script|<img|<link|<iframe|onerror='/i);
    // Only the page's own </pre> closes each pre: the hostile one is text.
    expect(html.match(/<pre>/g)?.length).toBe(html.match(/<\/pre>/g)?.length);
    expect(html).toContain('&#60;/pre&#62;&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;');
    expect(html).not.toContain('s3cret');
    expect(html).toContain('http://***@10.20.0.2/img');
    // Self-contained: no resource is loaded from anywhere (URLs only appear as text).
    expect(html).not.toMatch(/\b(src|href|xmlns|action)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(|@import/i);
  });

  it('writes <base>.html and the report as JSON, named by kind and start time by default', async () => {
    const { r } = await report();
    const dir = mkdtempSync(join(tmpdir(), 'forge-report-'));
    const p = writeRunReport({ ...r, shard: '2/4' }, dir);
    expect(p).toEqual({ html: join(dir, 'e2e-20261129T090000Z-shard-2of4.html'), json: join(dir, 'e2e-20261129T090000Z-shard-2of4.json') });
    expect(readFileSync(p.html, 'utf8')).toMatch(/^<!doctype html>[\s\S]*<td data-field="shard">2\/4<\/td>/);
    const back = JSON.parse(readFileSync(p.json, 'utf8')) as RunReport;
    expect(back.nodes.map((n) => n.checks.length)).toEqual([2, 2]);
    expect(back.nodes[1]?.console).toContain('http://***@10.20.0.2/img');
    expect(writeRunReport(r, dir, 'lab-e2e').html).toBe(join(dir, 'lab-e2e.html'));
    rmSync(dir, { recursive: true, force: true });
  });
});
