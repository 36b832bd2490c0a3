// Adapters from what the lab already reports to the progress console: Stages'
// ▶/✔/✘ lines, the agent's JSON log lines shipped from a node, and the build
// logger's step events. Each takes the console and returns the callback its
// source already calls, so the sources themselves stay unaware of terminals.
import { z } from 'zod';
import { redactedLine, type Sink } from '../agent/core/log.js';
import { summarizeLogLine } from './orchestrator.js';
import type { StageEvent } from './stages.js';
import { formatRate, type ProgressConsole } from './progress.js';

/** The `onEvent` of `new Stages(onEvent)`: prints each line and starts/ends the console's stage (a wait shows "of <timeout>"). */
export function stageFeed(pc: ProgressConsole): (line: string, e: StageEvent) => void {
  return (line, e) => {
    if (e.kind === 'start') {
      pc.line(line);
      pc.stageStart(e.stage, e.timeoutMs);
      return;
    }
    pc.stageEnd(e.stage);
    pc.line(line);
  };
}

/** What the agent's `image.progress` event carries (agent/image/progress.ts). */
export interface ImageProgress {
  device: string | undefined;
  bytes: number;
  /** Decompressed size when known (often unknown for a compressed stream). */
  totalBytes: number | undefined;
  /** Of the raw size when known, else of the compressed download (null from the agent when neither is). */
  percent: number | undefined;
  /** The agent's average bytes/s since the image started. */
  rate: number | undefined;
  done: boolean;
  /** The event's own time (ms since the epoch). */
  atMs: number | undefined;
}

const imageProgressEvent = z.looseObject({
  event: z.literal('image.progress'),
  ts: z.string().optional(),
  device: z.string().optional(),
  bytes: z.number().nonnegative(),
  total: z.number().nonnegative().nullable().optional(),
  percent: z.number().nullable().optional(),
  rate: z.number().nullable().optional(),
  done: z.boolean().optional(),
});

/** An agent log line → its image progress; undefined for any other line (never throws: lines are best effort). */
export function parseImageProgress(line: string): ImageProgress | undefined {
  // Most lines are something else: skip the JSON parse for them.
  if (!line.includes('image.progress')) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    return undefined;
  }
  const r = imageProgressEvent.safeParse(doc);
  if (!r.success) return undefined;
  const e = r.data;
  const at = e.ts === undefined ? Number.NaN : Date.parse(e.ts);
  return {
    device: e.device,
    bytes: e.bytes,
    totalBytes: e.total ?? undefined,
    percent: e.percent ?? undefined,
    rate: e.rate ?? undefined,
    done: e.done === true,
    atMs: Number.isFinite(at) ? at : undefined,
  };
}

/** "1.2 GB" (decimal, like formatRate). */
function formatBytes(n: number): string {
  return formatRate(n).replace('/s', '');
}

/**
 * Handles the agent lines of a node's run: image progress updates the console
 * (the last one, `done`, also leaves a permanent line); every other line is
 * printed as runProvision prints it today (`  [node] level event k=v …`).
 */
export function agentLineFeed(pc: ProgressConsole): (node: string, line: string) => void {
  return (node, line) => {
    const p = parseImageProgress(line);
    if (!p) {
      pc.line(`  [${node}] ${summarizeLogLine(line)}`);
      return;
    }
    const target = p.device ?? 'image';
    pc.update({
      step: `image → ${target}`,
      bytes: p.bytes,
      ...(p.totalBytes !== undefined ? { totalBytes: p.totalBytes } : {}),
      ...(p.percent !== undefined ? { percent: p.percent } : p.done ? { percent: 100 } : {}),
      ...(p.atMs !== undefined ? { atMs: p.atMs } : {}),
    });
    if (p.done) pc.line(`  [${node}] image → ${target}: ${formatBytes(p.bytes)} written${p.rate ? `, ${formatRate(p.rate)} average` : ''}`);
  };
}

/** Build log events → the step shown (agent/host/ramdisk, agent/host/image). */
const BUILD_STEPS: Readonly<Record<string, string>> = {
  'bootstrap.debootstrap': 'debootstrap (ramdisk root)',
  'bootstrap.overlay': 'overlay (agent bundle, node, /init)',
  'build-image.debootstrap': 'debootstrap (image root)',
  'build-image.pack': 'pack ext4, checksum, compress',
};
const BUILD_PREFIXES = ['bootstrap.', 'build-image.'];

/**
 * A logger sink for the host builds (`createLogger([fileSink(…), buildStepSink(pc)])`):
 * a build's step events become the console's step (a build has no percent, so
 * the step and its elapsed time are what there is to show); warnings and errors
 * become permanent lines. Everything else stays in the build log only.
 */
export function buildStepSink(pc: ProgressConsole): Sink {
  return (line, e) => {
    if (e.level === 'warn' || e.level === 'error') {
      pc.line(`  ${summarizeLogLine(redactedLine(line, e))}`);
      return;
    }
    const prefix = BUILD_PREFIXES.find((p) => e.event.startsWith(p));
    const step = BUILD_STEPS[e.event] ?? (prefix ? e.event.slice(prefix.length) : undefined);
    if (step) pc.update({ step });
  };
}
