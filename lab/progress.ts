// Live progress for the lab's long stages (image and ramdisk builds, PXE waits,
// image writes, first boot). On a TTY one status line stays at the bottom and is
// redrawn in place; anywhere else (CI logs) progress becomes an occasional plain
// line and no escape code is ever written.
import { realClock, type Clock } from '../agent/core/context.js';

/** Where the console writes: process.stdout, or a fake in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface ProgressOptions {
  /** Default: the real clock. Only `now` is used. */
  clock?: Pick<Clock, 'now'>;
  /** Overrides `stream.isTTY` (e.g. plain lines on a TERM=dumb terminal). */
  tty?: boolean;
  /** Redraws (TTY) or heartbeat checks (plain) while a stage runs; 0 disables the timer (tests call tick()). Default 1000. */
  refreshMs?: number;
}

export interface ProgressUpdate {
  percent?: number;
  bytes?: number;
  totalBytes?: number;
  /** What the stage is doing now (a build step, the device being written). */
  step?: string;
  /** When the sample was taken (the agent's own timestamp); default now. Rates and ETAs use it, so batched lines do not skew them. */
  atMs?: number;
}

/** A redraw at most this often: ~10 per second. */
const REDRAW_MS = 100;
/** Plain mode: one progress line per this many percent. */
const PLAIN_PERCENT_STEP = 10;
/** Plain mode: a still-running line this often for a stage without percent. */
const PLAIN_EVERY_MS = 30_000;
/** Rate smoothing time constant: steady over a few samples, follows a real change within seconds. */
const RATE_TAU_MS = 5_000;
/** Samples closer than this are merged before a rate is taken (same-millisecond bursts). */
const RATE_MIN_DT_MS = 200;
const BAR_WIDTH = 20;
const ERASE = '\r\x1b[2K';

/** "52.4 MB/s" (decimal units, as disks and networks are quoted). */
export function formatRate(bytesPerSec: number): string {
  if (!Number.isFinite(bytesPerSec) || bytesPerSec < 0) return '? B/s';
  if (bytesPerSec >= 1e9) return `${(bytesPerSec / 1e9).toFixed(1)} GB/s`;
  if (bytesPerSec >= 1e6) return `${(bytesPerSec / 1e6).toFixed(1)} MB/s`;
  if (bytesPerSec >= 1e3) return `${Math.round(bytesPerSec / 1e3)} kB/s`;
  return `${Math.round(bytesPerSec)} B/s`;
}

/** "42s", "3m05s", "1h02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** "ETA 1m05s"; "ETA ?" when it cannot be known yet. */
export function formatEta(ms: number | undefined): string {
  return ms === undefined || !Number.isFinite(ms) ? 'ETA ?' : `ETA ${formatDuration(ms)}`;
}

/** A `width`-cell bar, e.g. renderBar(50, 10) = "█████░░░░░". */
export function renderBar(percent: number, width: number): string {
  const p = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
  const full = Math.round((p / 100) * width);
  return '█'.repeat(full) + '░'.repeat(Math.max(0, width - full));
}

/** Control characters (ESC, CR …) from text we did not write would break the status line or leak into plain logs. */
function clean(text: string, keepNewlines: boolean): string {
  return keepNewlines ? text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '') : text.replace(/[\x00-\x1f\x7f]/g, ' ');
}

/** What is known of one running stage. */
interface StageState {
  name: string;
  timeoutMs: number | undefined;
  startedAt: number;
  step: string | undefined;
  percent: number | undefined;
  bytes: number | undefined;
  totalBytes: number | undefined;
  /** Smoothed bytes per second. */
  rate: number | undefined;
  rateFrom: { at: number; bytes: number } | undefined;
  /** First percent sample of this phase: ETA when only percent is known. */
  percentFrom: { at: number; percent: number } | undefined;
  lastAt: number | undefined;
  /** Plain mode: the last 10 % bucket printed, and when a plain line was last printed. */
  bucket: number;
  plainAt: number;
}

export class ProgressConsole {
  readonly isTTY: boolean;
  readonly #out: ProgressStream;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #refreshMs: number;
  /** Nested stages: the innermost one is shown. */
  readonly #stages: StageState[] = [];
  /** The status line on screen ('' for none) and when it was drawn. */
  #shown = '';
  #drawnAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: ProgressStream, o: ProgressOptions = {}) {
    this.#out = stream;
    this.isTTY = o.tty ?? stream.isTTY === true;
    this.#clock = o.clock ?? realClock;
    this.#refreshMs = o.refreshMs ?? 1000;
  }

  /** A permanent line (printed above the status line on a TTY). */
  line(text: string): void {
    const t = clean(text, true);
    if (!this.isTTY || !this.#shown) {
      this.#out.write(t + '\n');
      return;
    }
    // One write: erase the status, print the line, put the status back below it.
    this.#out.write(ERASE + t + '\n' + this.#shown);
  }

  stageStart(name: string, timeoutMs?: number): void {
    const now = this.#clock.now();
    this.#stages.push({
      name: clean(name, false), timeoutMs, startedAt: now, step: undefined, percent: undefined, bytes: undefined, totalBytes: undefined,
      rate: undefined, rateFrom: undefined, percentFrom: undefined, lastAt: undefined, bucket: 0, plainAt: now,
    });
    this.#startTimer();
    this.#draw(true);
  }

  /** Ends the named stage (default: the innermost); the status line goes when no stage is left. */
  stageEnd(name?: string): void {
    const i = name === undefined ? this.#stages.length - 1 : this.#stages.map((s) => s.name).lastIndexOf(clean(name, false));
    if (i < 0) return;
    this.#stages.splice(i, 1);
    if (this.#stages.length) this.#draw(true);
    else {
      this.#stopTimer();
      this.#erase();
    }
  }

  update(u: ProgressUpdate): void {
    const s = this.#stages.at(-1);
    if (!s) return;
    const at = u.atMs ?? this.#clock.now();
    const step = u.step === undefined ? undefined : clean(u.step, false);
    let percent = u.percent ?? (u.bytes !== undefined && u.totalBytes ? (u.bytes / u.totalBytes) * 100 : undefined);
    if (percent !== undefined) percent = Math.min(100, Math.max(0, percent));
    // A new step (the next image), or a count that went back (a restart): rates and ETA start over.
    const restart = (step !== undefined && step !== s.step) || (u.bytes !== undefined && s.bytes !== undefined && u.bytes < s.bytes) ||
      (percent !== undefined && s.percent !== undefined && percent < s.percent);
    if (restart) {
      Object.assign(s, { percent: undefined, bytes: undefined, totalBytes: undefined, rate: undefined, rateFrom: undefined, percentFrom: undefined });
      s.bucket = percent === undefined ? 0 : Math.floor(percent / PLAIN_PERCENT_STEP);
    }
    const newStep = step !== undefined && step !== s.step;
    if (step !== undefined) s.step = step;
    if (u.bytes !== undefined) this.#sampleBytes(s, u.bytes, at);
    if (u.totalBytes !== undefined) s.totalBytes = u.totalBytes;
    if (percent !== undefined) {
      s.percent = percent;
      s.percentFrom ??= { at, percent };
    }
    s.lastAt = at;
    if (this.isTTY) {
      this.#draw(false);
      return;
    }
    const bucket = percent === undefined ? s.bucket : Math.floor(percent / PLAIN_PERCENT_STEP);
    if (newStep || bucket > s.bucket) {
      s.bucket = bucket;
      this.#plain(s);
    } else this.tick();
  }

  /** Called by the timer: redraws elapsed time on a TTY, prints the occasional still-running line otherwise. */
  tick(): void {
    const s = this.#stages.at(-1);
    if (!s) return;
    if (this.isTTY) {
      this.#draw(false);
      return;
    }
    const now = this.#clock.now();
    if (s.percent === undefined && now - s.plainAt >= PLAIN_EVERY_MS) this.#plain(s);
  }

  /** Clears the status line and stops the timer (call before exiting). */
  close(): void {
    this.#stages.length = 0;
    this.#stopTimer();
    this.#erase();
  }

  /** The status line of the innermost stage, fitted to `columns` ('' when no stage runs). */
  statusLine(): string {
    const s = this.#stages.at(-1);
    if (!s) return '';
    const now = this.#clock.now();
    const elapsed = now - s.startedAt;
    const time = s.timeoutMs === undefined ? formatDuration(elapsed) : `${formatDuration(elapsed)} of ${formatDuration(s.timeoutMs)}`;
    const head = [`  ${s.name}`, ...(s.step ? [s.step] : [])].join('  ');
    const tail = [
      ...(s.percent !== undefined ? [`${s.percent.toFixed(1)}%`] : []),
      ...(s.rate !== undefined ? [formatRate(s.rate)] : []),
      ...(s.percent !== undefined && s.percent < 100 ? [formatEta(this.#eta(s))] : []),
      time,
    ].join('  ');
    const cols = Math.max(10, this.#out.columns ?? 80) - 1; // the last column would wrap on some terminals
    // The bar gives way first when the line is too long, then the end of the line.
    const room = cols - head.length - tail.length - 4;
    const bar = s.percent !== undefined && room >= 5 ? `  ${renderBar(s.percent, Math.min(BAR_WIDTH, room))}` : '';
    const text = `${head}${bar}  ${tail}`;
    return text.length > cols ? text.slice(0, cols - 1) + '…' : text;
  }

  #sampleBytes(s: StageState, bytes: number, at: number): void {
    s.bytes = bytes;
    if (!s.rateFrom) {
      s.rateFrom = { at, bytes };
      return;
    }
    const dt = at - s.rateFrom.at;
    if (dt < RATE_MIN_DT_MS) return;
    const inst = ((bytes - s.rateFrom.bytes) / dt) * 1000;
    const alpha = 1 - Math.exp(-dt / RATE_TAU_MS);
    s.rate = s.rate === undefined ? inst : s.rate + alpha * (inst - s.rate);
    s.rateFrom = { at, bytes };
  }

  /** From the rate and the bytes left when the total is known, else from percent over time. */
  #eta(s: StageState): number | undefined {
    if (s.totalBytes && s.bytes !== undefined && s.rate && s.rate > 0) return ((s.totalBytes - s.bytes) / s.rate) * 1000;
    const from = s.percentFrom;
    if (s.percent === undefined || !from || s.lastAt === undefined) return undefined;
    const done = s.percent - from.percent;
    const dt = s.lastAt - from.at;
    return done > 0 && dt > 0 ? ((100 - s.percent) * dt) / done : undefined;
  }

  #plain(s: StageState): void {
    s.plainAt = this.#clock.now();
    const parts = [
      ...(s.step ? [s.step] : []),
      ...(s.percent !== undefined ? [`${Math.floor(s.percent)}%`] : []),
      ...(s.rate !== undefined ? [formatRate(s.rate)] : []),
      ...(s.percent !== undefined && s.percent < 100 && this.#eta(s) !== undefined ? [formatEta(this.#eta(s))] : []),
      ...(s.percent === undefined ? [`${formatDuration(s.plainAt - s.startedAt)}${s.timeoutMs === undefined ? '' : ` of ${formatDuration(s.timeoutMs)}`}`] : []),
    ];
    this.#out.write(`  … ${s.name}: ${parts.join(', ')}\n`);
  }

  #draw(force: boolean): void {
    if (!this.isTTY) return;
    const now = this.#clock.now();
    if (!force && now - this.#drawnAt < REDRAW_MS) return;
    const text = this.statusLine();
    if (text === this.#shown) return;
    this.#drawnAt = now;
    this.#shown = text;
    this.#out.write(ERASE + text);
  }

  #erase(): void {
    if (!this.isTTY || !this.#shown) return;
    this.#shown = '';
    this.#out.write(ERASE);
  }

  #startTimer(): void {
    if (this.#timer || this.#refreshMs <= 0) return;
    this.#timer = setInterval(() => this.tick(), this.#refreshMs);
    // A status line must never keep the process alive.
    this.#timer.unref();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
