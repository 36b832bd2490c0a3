// The run report opened in a real browser (Debian's headless Chromium through
// puppeteer-core): built from recorded data — the loop-device layout and the
// `sfdisk --json` it produced (fixtures/tool-output/verify) with the lab's own
// host-side partition checks, a copy whose plan disagrees with that disk, and a
// RAID+LVM scenario plan — and read back from the DOM: the drawn partitions are
// the plan's and the disk's, each really has width, and the verdict cells are
// the checks'. The screenshot is kept as reports/report-screenshot.png.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonAs } from '../../agent/core/parse-json.js';
import { buildPlan } from '../../agent/plan/build.js';
import { loadScenario } from '../../agent/plan/fixtures.js';
import type { Plan } from '../../agent/plan/types.js';
import { sfdiskOutput } from '../../agent/tools/sfdisk.js';
import { FIXTURE_DIR, layoutPlan, type Recording } from '../../agent/verify/record-tool-output.js';
import type { Check } from '../verify/first-boot.js';
import { comparePartitions, type HostDiskView } from '../verify/host-disk.js';
import { REPORT_VERSION, type NodeReport, type RunReport } from './model.js';
import { CHROMIUM, inspectReport, type ReportInspection } from './browser.js';
import { ExecaRunner } from '../../agent/core/runner.js';
import { writeRunReport } from './render.js';

const recording = JSON.parse(readFileSync(join(FIXTURE_DIR, 'recording.json'), 'utf8')) as Recording;
const { a, b } = recording.devices;

/** What the lab's host-side check reads: sfdisk's JSON of a recorded disk. */
function recordedView(device: string): HostDiskView {
  const call = recording.calls.find((c) => c.argv.join(' ') === `sfdisk --json ${device}`);
  if (!call) throw new Error(`no sfdisk recording of ${device}`);
  const pt = parseJsonAs(sfdiskOutput, readFileSync(join(FIXTURE_DIR, call.stdout), 'utf8'), { command: call.argv }).partitiontable;
  return { label: pt.label, sectorSize: pt.sectorsize ?? 512, partitions: pt.partitions };
}

/** The lab's checks of each read-back disk against its planned one. */
const hostChecks = (plan: Plan, views: HostDiskView[]): Check[] => [
  ...views.map((v, i): Check => ({ name: `host: disk ${i + 1} GPT label`, ok: v.label === 'gpt', detail: `label=${String(v.label)}` })),
  ...views.flatMap((v, i) => comparePartitions(v, plan.parteds[i]!).map((c) => ({ ...c, name: `disk ${i + 1} ${c.name}` }))),
];

const views = [recordedView(a), recordedView(b)];
const recorded = layoutPlan(a, b);
// The same disk against a plan that wanted partition 3 bigger: the check fails, the drawing flags it.
const wrong = structuredClone(recorded);
const p3 = wrong.parteds[0]!.partitions[2]!;
p3.size += 100;
p3.end += 100;

const node = (name: string, plan: Plan, found: HostDiskView[] | undefined, extra: Partial<NodeReport> = {}): NodeReport => {
  const checks = found ? hostChecks(plan, found) : [];
  return { name, scenario: 'recorded layout', method: 'image', plan, ...(found ? { found } : {}), checks, images: [], ok: checks.length > 0 && checks.every((c) => c.ok), ...extra };
};

let report: RunReport;
let seen: ReportInspection;
let shot: string;
let dir = '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeAll(async () => {
  const { data, inventory } = await loadScenario('two-disks-raid-lvm');
  const t = (s: number) => new Date(Date.UTC(2026, 10, 29, 9, 0, s)).toISOString();
  report = {
    version: REPORT_VERSION,
    kind: 'e2e',
    title: 'report in the browser',
    startedAt: t(0),
    rerun: 'npx vitest run --project system lab/report/browser.test.ts',
    stages: [
      { stage: 'lab up', ok: true, startedAt: t(0), ms: 4_000 },
      { stage: 'node-1: provision', ok: true, startedAt: t(4), ms: 30_000 },
      { stage: 'node-2: provision', ok: true, startedAt: t(9), ms: 28_000 },
      { stage: 'node-2: host-side check', ok: false, startedAt: t(37), ms: 3_000, detail: 'partition 3 differs' },
      { stage: 'node-3: provision', ok: false, startedAt: t(12), ms: 8_000, detail: 'stopped' },
    ],
    nodes: [
      node('node-1', recorded, views, { images: [{ target: '/', expected: { sha256: 'ab'.repeat(32) }, found: { sha256: 'ab'.repeat(32) } }] }),
      node('node-2', wrong, views, { images: [{ target: '/', expected: { sha256: 'ab'.repeat(32) }, found: { sha256: 'cd'.repeat(32) } }] }),
      node('node-3', buildPlan(data, inventory), undefined, {
        scenario: 'two-disks-raid-lvm',
        checks: [{ name: 'provision: run finished', ok: false, detail: 'stopped at images' }],
        error: { code: 'IMAGE_FETCH_FAILED', message: 'image server down' },
        console: 'fuel-forge: provisioning\n'.repeat(40),
        agentLog: ['{"event":"step.failed","step":"images"}'],
      }),
    ],
  };
  dir = mkdtempSync(join(tmpdir(), 'forge-report-browser-'));
  const { html } = writeRunReport(report, dir, 'browser-test');
  shot = join(dir, 'browser-test.png');
  seen = await inspectReport(html, shot);
  mkdirSync('reports', { recursive: true });
  copyFileSync(shot, 'reports/report-screenshot.png');
}, 120_000);

const drawn = (name: string) => {
  const n = seen.nodes.find((x) => x.name === name);
  expect(n, name).toBeDefined();
  return n!;
};

describe('a run report in headless Chromium', () => {
  it('shows one section per node', () => {
    expect(seen.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('draws every planned partition with its size and role, each with a visible width', () => {
    for (const n of report.nodes) {
      const planned = drawn(n.name).partitions.filter((p) => p.side === 'planned');
      expect(planned.map((p) => [p.disk, p.part, p.sizeMiB, p.role])).toEqual(n.plan!.parteds.flatMap((d) => d.partitions.map((p) => [d.device, p.device, p.size, p.role])));
      for (const p of planned) expect(p.widthPx, `${n.name} ${p.part}`).toBeGreaterThan(20);
    }
    // Proportional, but the 1 MiB bios_grub is still a readable box.
    const byPart = new Map(drawn('node-1').partitions.filter((p) => p.side === 'planned').map((p) => [p.part, p]));
    const bios = byPart.get(`${a}p1`)!;
    const data = byPart.get(`${a}p3`)!;
    expect([bios.sizeMiB, data.sizeMiB]).toEqual([1, 300]);
    expect(bios.widthPx).toBeGreaterThanOrEqual(30);
    expect(data.widthPx).toBeGreaterThan(3 * bios.widthPx);
    expect(drawn('node-3').partitions.filter((p) => p.mount === '/boot').map((p) => p.part)).toEqual(['/dev/vda3', '/dev/vdb3']);
  });

  it('draws what sfdisk read beside it, in MiB, flagging only what differs from the plan', () => {
    const sfdisk = views.flatMap((v) => v.partitions.map((p) => (p.size * v.sectorSize) / 2 ** 20));
    for (const name of ['node-1', 'node-2']) {
      const found = drawn(name).partitions.filter((p) => p.side === 'found');
      expect(found.map((p) => p.sizeMiB)).toEqual(sfdisk);
      expect(found.every((p) => p.widthPx > 20)).toBe(true);
    }
    expect(drawn('node-1').partitions.filter((p) => p.diff)).toEqual([]);
    // Partition 3 is smaller than node-2's plan wants; nothing else differs.
    expect(drawn('node-2').partitions.filter((p) => p.diff).map((p) => [p.side, p.part, p.diff])).toEqual([['found', `${a}p3`, 'size']]);
    expect(drawn('node-3').partitions.filter((p) => p.side === 'found')).toEqual([]);
  });

  it('shows a PASS or FAIL cell for every check, as the check came out', () => {
    for (const n of report.nodes) {
      expect(drawn(n.name).checks).toEqual(n.checks.map((c) => ({ name: c.name, verdict: c.ok ? 'PASS' : 'FAIL' })));
    }
    expect(drawn('node-1').checks.every((c) => c.verdict === 'PASS')).toBe(true);
    expect(drawn('node-2').checks.filter((c) => c.verdict === 'FAIL').length).toBeGreaterThan(0);
  });

  it('saved a full-page PNG screenshot', () => {
    const png = readFileSync(shot);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.length).toBeGreaterThan(50_000);
    // Full page: taller than the 900 px viewport (IHDR height, big-endian at byte 20).
    expect(png.readUInt32BE(20)).toBeGreaterThan(900);
    expect(statSync('reports/report-screenshot.png').size).toBe(png.length);
  });

  it('started Chromium through the typed runner and left no browser or profile behind', async () => {
    const runner = new ExecaRunner();
    const dir = mkdtempSync(join(tmpdir(), 'forge-report-browser-'));
    try {
      writeRunReport(report, dir, 'again');
      await inspectReport(join(dir, 'again.html'), join(dir, 'again.png'), { runner });
      const run = runner.history.find((r) => r.argv[0] === CHROMIUM);
      expect(run?.argv).toEqual(expect.arrayContaining(['--headless=new', '--remote-debugging-port=0']));
      const profile = run?.argv.find((a) => a.startsWith('--user-data-dir='))?.slice('--user-data-dir='.length) ?? '';
      expect(profile).toMatch(/forge-chromium-/);
      expect(existsSync(profile)).toBe(false);
      const left = await runner.run(['pgrep', '-f', profile], { okExitCodes: [0, 1] });
      expect(left.stdout.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the missing browser instead of failing obscurely', async () => {
    await expect(inspectReport('/nonexistent.html', join(tmpdir(), 'x.png'), { executablePath: '/nonexistent/chromium' })).rejects.toMatchObject({
      code: 'TOOL_MISSING',
      command: ['/nonexistent/chromium'],
    });
  });
});
