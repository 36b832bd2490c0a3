// Opens a run report in headless Chromium (Debian's, from ci/setup) and reads
// back what the page shows: per node the drawn partitions (with their rendered
// width) and the verdict cells of the checks, plus a full-page screenshot. The
// typed runner starts Chromium (its own process group, a fresh profile, the
// DevTools endpoint on a random loopback port); puppeteer-core only connects to
// it over CDP — it never launches or downloads a browser.
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from 'puppeteer-core';
import { z } from 'zod';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import { pollUntil } from '../vm/wait.js';

export const CHROMIUM = '/usr/bin/chromium';

const drawnPartition = z.object({
  disk: z.string(),
  part: z.string(),
  role: z.string(),
  mount: z.string(),
  sizeMiB: z.number(),
  side: z.enum(['planned', 'found']),
  /** What differs from the plan (found side only): 'size', 'start type', 'missing', 'extra'. */
  diff: z.string().optional(),
  /** Rendered width in CSS pixels: > 0 means the box is really drawn. */
  widthPx: z.number(),
});

const drawnCheck = z.object({ name: z.string(), verdict: z.enum(['PASS', 'FAIL']) });

const inspected = z.object({
  nodes: z.array(z.object({ name: z.string(), partitions: z.array(drawnPartition), checks: z.array(drawnCheck) })),
});

export type DrawnPartition = z.infer<typeof drawnPartition>;
export type ReportInspection = z.infer<typeof inspected>;

// Runs in the page. A string, not a function: tsx/esbuild may wrap functions with
// helpers (__name) that do not exist in the browser, and tsc has no DOM lib here.
const READ_DOM = `(() => {
  const attr = (e, n) => e.getAttribute(n) ?? '';
  return { nodes: [...document.querySelectorAll('section.node[data-node]')].map((s) => ({
    name: attr(s, 'data-node'),
    partitions: [...s.querySelectorAll('[data-part]')].map((e) => ({
      disk: attr(e, 'data-disk'), part: attr(e, 'data-part'), role: attr(e, 'data-role'), mount: attr(e, 'data-mount'),
      sizeMiB: Number(attr(e, 'data-size-mib')), side: attr(e, 'data-side'),
      ...(e.hasAttribute('data-diff') ? { diff: attr(e, 'data-diff') } : {}),
      widthPx: e.getBoundingClientRect().width,
    })),
    // The cell's visible text, not its attribute: what a reader sees.
    checks: [...s.querySelectorAll('tr[data-check]')].map((tr) => ({
      name: attr(tr, 'data-check'), verdict: (tr.querySelector('[data-verdict]')?.textContent ?? '').trim(),
    })),
  })) };
})()`;

export interface InspectOptions {
  /** Chromium binary (default /usr/bin/chromium, Debian's package). */
  executablePath?: string;
  /** Viewport width in CSS pixels (the screenshot is full-page height). */
  width?: number;
  runner?: Runner;
}

/** Chromium's argv: headless, a throwaway profile, DevTools on a port it picks and prints. */
export function chromiumArgv(executable: string, profileDir: string, root: boolean): string[] {
  return [
    executable, '--headless=new', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
    // Root cannot use Chromium's sandbox.
    ...(root ? ['--no-sandbox'] : []),
    `--user-data-dir=${profileDir}`, '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', 'about:blank',
  ];
}

/** The endpoint from Chromium's "DevTools listening on ws://…" stderr line. */
export function devtoolsEndpoint(line: string): string | undefined {
  return /DevTools listening on (ws:\/\/\S+)/.exec(line)?.[1];
}

/**
 * Opens `htmlFile` (a report from writeRunReport) in headless Chromium, reads
 * the drawn partitions and check verdicts per node from the DOM, and saves a
 * full-page PNG at `screenshotFile`. The browser is closed whatever happens.
 */
export async function inspectReport(htmlFile: string, screenshotFile: string, o: InspectOptions = {}): Promise<ReportInspection> {
  const executablePath = o.executablePath ?? CHROMIUM;
  if (!existsSync(executablePath)) {
    throw new ForgeError('TOOL_MISSING', `${executablePath} not found: install Debian's chromium package (bash ci/setup)`, { command: [executablePath] });
  }
  if (!existsSync(htmlFile)) throw new ForgeError('INPUT_UNREADABLE', `report ${htmlFile} does not exist`, { field: 'htmlFile' });
  const profile = mkdtempSync(join(tmpdir(), 'forge-chromium-'));
  const argv = chromiumArgv(executablePath, profile, process.getuid?.() === 0);
  let endpoint: string | undefined;
  // TMPDIR: Chromium's singleton socket directory (org.chromium.Chromium.*) goes into the profile we remove,
  // not /tmp, where each killed browser left one behind.
  const proc = (o.runner ?? new ExecaRunner()).start(argv, { group: true, env: { TMPDIR: profile }, onStderrLine: (l) => void (endpoint ??= devtoolsEndpoint(l)) });
  let browser: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    let exited = false;
    void proc.exited.then(() => void (exited = true));
    const ws = await pollUntil('Chromium\'s DevTools endpoint', async () => endpoint, {
      timeoutMs: 60_000,
      pollMs: 100,
      failWhen: () => (exited ? `${executablePath} exited before it listened: ${proc.stderrTail().slice(-1000)}` : undefined),
    });
    browser = await connect({ browserWSEndpoint: ws, defaultViewport: null });
    const page = await browser.newPage();
    await page.setViewport({ width: o.width ?? 1400, height: 900 });
    await page.goto(pathToFileURL(resolve(htmlFile)).href, { waitUntil: 'load', timeout: 60_000 });
    const seen = inspected.parse(await page.evaluate(READ_DOM));
    mkdirSync(dirname(resolve(screenshotFile)), { recursive: true });
    await page.screenshot({ path: screenshotFile as `${string}.png`, fullPage: true, type: 'png' });
    return seen;
  } finally {
    await browser?.close().catch(() => undefined);
    proc.kill('SIGKILL');
    await proc.exited;
    rmSync(profile, { recursive: true, force: true });
  }
}
