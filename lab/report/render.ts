// A lab run as one self-contained HTML page (inline CSS and SVG, no scripts, no
// network): header with verdict and rerun command, a stage timeline with one row
// per node, then per node the disks planned beside found, the checks, the image
// digests and the console/agent log tails. writeRunReport also writes the JSON
// the page was made from, which a shard merge reads back.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactDeep } from '../../agent/core/redact.js';
import { DISK_CSS, esc, foundDiskHtml, plannedDiskBar, stackingHtml } from '../../agent/plan/html.js';
import type { StageRecord } from '../stages.js';
import type { ImageDigests, NodeReport, RunReport } from './model.js';

/** The run passed: every node ok and no stage failed. */
export function runOk(r: RunReport): boolean {
  return r.nodes.every((n) => n.ok) && r.stages.every((s) => s.ok);
}

const verdict = (ok: boolean): string => `<span class="verdict ${ok ? 'pass' : 'fail'}" data-verdict="${ok ? 'PASS' : 'FAIL'}">${ok ? 'PASS' : 'FAIL'}</span>`;

// ---- timeline

/** The row a stage belongs to: the node named by its `<node>: ` prefix, else 'lab'. */
export function stageRow(stage: string, nodes: readonly string[]): string {
  const i = stage.indexOf(': ');
  const prefix = i > 0 ? stage.slice(0, i) : '';
  return nodes.includes(prefix) ? prefix : 'lab';
}

export interface PlacedStage {
  rec: StageRecord;
  row: string;
  /** ms since the run's first stage started. */
  start: number;
}

/** Stages on one time axis: by startedAt; a stage without one follows the one before it in the list. */
export function placeStages(stages: readonly StageRecord[], nodes: readonly string[]): PlacedStage[] {
  const at = (rec: StageRecord): number => (rec.startedAt === undefined ? NaN : Date.parse(rec.startedAt));
  // Undated stages before the first dated one end where it starts.
  const k = stages.findIndex((rec) => Number.isFinite(at(rec)));
  let prevEnd = k < 0 ? 0 : at(stages[k]!) - stages.slice(0, k).reduce((sum, rec) => sum + rec.ms, 0);
  const abs = stages.map((rec) => {
    const start = Number.isFinite(at(rec)) ? at(rec) : prevEnd;
    prevEnd = start + rec.ms;
    return { rec, row: stageRow(rec.stage, nodes), start };
  });
  const t0 = Math.min(...abs.map((s) => s.start));
  return abs.map((s) => ({ ...s, start: s.start - t0 }));
}

/** A 1-2-5 step giving about `n` ticks over `span` ms. */
function tickStep(span: number, n = 8): number {
  const raw = Math.max(span / n, 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
}

const fmtSecs = (ms: number): string => {
  const s = ms / 1000;
  if (s < 120) return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
  return `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, '0')}`;
};

function timelineSvg(r: RunReport): string {
  const names = r.nodes.map((n) => n.name);
  const placed = placeStages(r.stages, names);
  if (!placed.length) return '<p class="none">no stages recorded</p>';
  const rows = [...(placed.some((s) => s.row === 'lab') ? ['lab'] : []), ...names.filter((n) => placed.some((s) => s.row === n))];
  const span = Math.max(...placed.map((s) => s.start + s.rec.ms), 1);
  const W = 1200;
  const labelW = 140;
  const rowH = 24;
  const top = 22;
  const plotW = W - labelW - 12;
  const H = top + rows.length * rowH + 6;
  const x = (ms: number): number => labelW + (ms / span) * plotW;
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step) {
    ticks.push(`<line class="tick" x1="${x(t).toFixed(1)}" y1="${top - 4}" x2="${x(t).toFixed(1)}" y2="${H - 4}"/><text class="tick" x="${x(t).toFixed(1)}" y="${top - 8}">${esc(fmtSecs(t))}</text>`);
  }
  const rowsSvg = rows.map((row, i) => {
    const y = top + i * rowH;
    const bars = placed
      .filter((s) => s.row === row)
      .map((s) => {
        const w = Math.max((s.rec.ms / span) * plotW, 2);
        const tip = `${s.rec.stage} — ${fmtSecs(s.rec.ms)}${s.rec.ok ? '' : ' — FAILED'}${s.rec.startedAt ? ` (started ${s.rec.startedAt})` : ''}${s.rec.detail ? `\n${s.rec.detail}` : ''}`;
        return (
          `<rect class="stage ${s.rec.ok ? 'ok' : 'fail'}" data-stage="${esc(s.rec.stage)}" data-row="${esc(row)}" data-ok="${s.rec.ok}" ` +
          `data-start-ms="${s.start}" data-ms="${s.rec.ms}" x="${x(s.start).toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" rx="2"><title>${esc(tip)}</title></rect>`
        );
      });
    return `<g data-timeline-row="${esc(row)}"><rect class="row-bg" x="0" y="${y}" width="${W}" height="${rowH}"/><text class="row-label" x="4" y="${y + rowH / 2 + 4}">${esc(row)}</text>${bars.join('')}</g>`;
  });
  return `<svg class="timeline" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="stage timeline">${ticks.join('')}${rowsSvg.join('')}</svg>`;
}

function stageTable(r: RunReport): string {
  const names = r.nodes.map((n) => n.name);
  const rows = placeStages(r.stages, names).map(
    (s) =>
      `<tr class="${s.rec.ok ? 'pass' : 'fail'}"><td>${esc(s.row)}</td><td>${esc(s.rec.stage)}</td><td class="num">${esc(fmtSecs(s.start))}</td>` +
      `<td class="num">${esc(fmtSecs(s.rec.ms))}</td><td>${s.rec.ok ? 'ok' : 'FAIL'}</td><td class="detail">${esc(s.rec.detail ?? '')}</td></tr>`,
  );
  const failed = r.stages.some((s) => !s.ok);
  return `<details class="stages"${failed ? ' open' : ''}><summary>stages (${r.stages.length})</summary><table><thead><tr><th>row</th><th>stage</th><th>at</th><th>took</th><th></th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

// ---- per node

function disksHtml(n: NodeReport): string {
  const out: string[] = [];
  const disks = n.plan?.parteds ?? [];
  const count = Math.max(disks.length, n.found?.length ?? 0);
  for (let i = 0; i < count; i++) {
    const d = disks[i];
    const view = n.found?.[i];
    const planned = d && n.plan ? plannedDiskBar(n.plan, d) : '<p class="none">not in the plan</p>';
    const found = view ? foundDiskHtml(view, d, d?.device ?? `disk ${i + 1}`) : '<p class="none">not read back (the run stopped before the host-side check)</p>';
    out.push(`<div class="pair"><div>${planned}</div><div>${found}</div></div>${d && n.plan ? stackingHtml(n.plan, d) : ''}`);
  }
  return out.length ? out.join('') : '<p class="none">no plan and no disk read back</p>';
}

function checksTable(n: NodeReport): string {
  if (!n.checks.length) return '<p class="none">no checks ran</p>';
  const rows = n.checks.map(
    (c) => `<tr class="${c.ok ? 'pass' : 'fail'}" data-check="${esc(c.name)}"><td>${esc(c.name)}</td>${verdictCell(c.ok)}<td class="detail">${esc(c.detail)}</td></tr>`,
  );
  return `<table class="checks"><thead><tr><th>check</th><th>verdict</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const verdictCell = (ok: boolean): string => `<td class="verdict ${ok ? 'pass' : 'fail'}" data-verdict="${ok ? 'PASS' : 'FAIL'}">${ok ? 'PASS' : 'FAIL'}</td>`;

/** 'true' | 'false' | 'unknown' (nothing found to compare). */
function digestMatch(want: string | undefined, got: string | undefined): string {
  if (want === undefined || got === undefined) return 'unknown';
  return String(want.toLowerCase() === got.toLowerCase());
}

function imagesTable(images: readonly ImageDigests[]): string {
  if (!images.length) return '<p class="none">no images</p>';
  const rows = images.flatMap((im) =>
    (['md5', 'sha256'] as const)
      .filter((a) => im.expected[a] !== undefined || im.found?.[a] !== undefined)
      .map((a) => {
        const match = digestMatch(im.expected[a], im.found?.[a]);
        return (
          `<tr class="digest m-${match}" data-image="${esc(im.target)}" data-algo="${a}" data-match="${match}"><td>${esc(im.target)}</td><td>${a}</td>` +
          `<td class="hash">${esc(im.expected[a] ?? '—')}</td><td class="hash">${esc(im.found?.[a] ?? (im.found ? '—' : 'not reported'))}</td>` +
          `<td>${match === 'true' ? 'match' : match === 'false' ? 'MISMATCH' : ''}</td></tr>`
        );
      }),
  );
  return `<table class="images"><thead><tr><th>target</th><th>digest</th><th>expected</th><th>found</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function tail(kind: string, label: string, text: string | undefined, open: boolean): string {
  if (text === undefined || text === '') return '';
  const lines = text.split('\n').length;
  return `<details class="tail" data-tail="${kind}"${open ? ' open' : ''}><summary>${esc(label)} (${lines} lines)</summary><pre>${esc(text)}</pre></details>`;
}

function nodeSection(n: NodeReport): string {
  const err = n.error ? `<p class="error" data-error-code="${esc(n.error.code ?? '')}">${n.error.code ? `<b>${esc(n.error.code)}</b> ` : ''}${esc(n.error.message)}</p>` : '';
  return `<section class="node" data-node="${esc(n.name)}" data-ok="${n.ok}">
<h2>${esc(n.name)} ${verdict(n.ok)} <span class="sub">${esc(n.scenario)}${n.method ? ` · ${esc(n.method)}` : ''}</span></h2>
${err}
<h3>Disks: planned | found</h3>
${disksHtml(n)}
<h3>Checks (${n.checks.filter((c) => c.ok).length}/${n.checks.length} passed)</h3>
${checksTable(n)}
<h3>Image digests</h3>
${imagesTable(n.images)}
${tail('agent-log', 'agent log', n.agentLog?.join('\n'), !n.ok)}
${tail('console', 'serial console', n.console, !n.ok)}
</section>`;
}

const CSS = `body{font:14px system-ui,sans-serif;margin:1.2em;max-width:1600px;color:#222}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.15em;border-top:2px solid #ccc;padding-top:.6em}h3{font-size:1em;margin:.9em 0 .3em}
.sub{font-weight:400;color:#666;font-size:.85em}
.meta td{border:none;padding:1px 10px 1px 0}
code.rerun{display:block;white-space:pre-wrap;word-break:break-all;background:#f3f3f3;border:1px solid #ddd;padding:.4em .6em;border-radius:4px}
.verdict.pass{color:#fff;background:#1a7f37;padding:0 .4em;border-radius:3px}.verdict.fail{color:#fff;background:#c62828;padding:0 .4em;border-radius:3px}
table{border-collapse:collapse;font-size:.88em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}
td.detail{white-space:pre-wrap;max-width:60em}td.num{text-align:right}td.hash{font-family:monospace;word-break:break-all}
tr.fail td{background:#fde7e9}tr.m-false td{background:#fde7e9;font-weight:600}
.error{color:#b00020;white-space:pre-wrap}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1em}
pre{background:#111;color:#ddd;padding:.6em;overflow-x:auto;font-size:.8em;max-height:40em}
.timeline .row-bg{fill:#f6f6f6;stroke:#fff}.timeline .row-label{font-size:12px;fill:#333}
.timeline .stage.ok{fill:#4a8fd8}.timeline .stage.fail{fill:#d32f2f}
.timeline .tick{stroke:#ddd;font-size:10px;fill:#777;text-anchor:middle}
${DISK_CSS}`;

/** The whole report page. Every string in it is redacted (URL credentials) and HTML-escaped. */
export function renderRunReport(report: RunReport): string {
  const r = redactDeep(report);
  const ok = runOk(r);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(`${ok ? 'PASS' : 'FAIL'} ${r.title}`)}</title>
<style>${CSS}</style></head>
<body data-kind="${esc(r.kind)}" data-ok="${ok}">
<header>
<h1>${esc(r.title)} ${verdict(ok)}</h1>
<table class="meta"><tbody>
<tr><td>kind</td><td data-field="kind">${esc(r.kind)}</td></tr>
<tr><td>started</td><td data-field="startedAt">${esc(r.startedAt)}</td></tr>
${r.shard ? `<tr><td>shard</td><td data-field="shard">${esc(r.shard)}</td></tr>` : ''}
<tr><td>nodes</td><td>${r.nodes.filter((n) => n.ok).length}/${r.nodes.length} passed</td></tr>
</tbody></table>
<p>Rerun:</p><code class="rerun" data-field="rerun">${esc(r.rerun)}</code>
</header>
<h2>Timeline</h2>
${timelineSvg(r)}
${stageTable(r)}
${r.nodes.map(nodeSection).join('\n')}
</body></html>
`;
}

/** `2026-11-29T09:45:00.123Z` → `20261129T094500Z` (file-name safe); now when unparseable. */
function stamp(iso: string): string {
  const t = Date.parse(iso);
  return new Date(Number.isFinite(t) ? t : Date.now()).toISOString().replace(/\.\d+/, '').replace(/[-:]/g, '');
}

/**
 * Writes `<dir>/<base>.html` and `<dir>/<base>.json` (the report itself, redacted,
 * for a later shard merge). `base` defaults to `<kind>-<start time>`, plus
 * `-shard-<i>of<n>` for a matrix shard so shards started together do not collide.
 */
export function writeRunReport(r: RunReport, dir = 'reports', base?: string): { html: string; json: string } {
  const name = (base ?? `${r.kind}-${stamp(r.startedAt)}${r.shard ? `-shard-${r.shard.replace('/', 'of')}` : ''}`).replace(/[^A-Za-z0-9._-]/g, '-');
  mkdirSync(dir, { recursive: true });
  const html = join(dir, `${name}.html`);
  const json = join(dir, `${name}.json`);
  writeFileSync(json, `${JSON.stringify(redactDeep(r), null, 2)}\n`);
  writeFileSync(html, renderRunReport(r));
  return { html, json };
}
