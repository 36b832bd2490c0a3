// Stage timing for the orchestrator and the summary: each stage is a step of the
// agent's sequencer (agent/core/sequence.ts) with its own timeout, so reports show
// where time goes; events are rendered as ▶/✔/✘ lines for the console.
import { createLogger, type LogEvent } from '../agent/core/log.js';
import { Sequence } from '../agent/core/sequence.js';

export interface StageRecord {
  stage: string;
  ok: boolean;
  /** ISO time the stage started (the report's timeline). */
  startedAt?: string;
  ms: number;
  detail?: string;
}

const secs = (ms: unknown): string => ((typeof ms === 'number' ? ms : 0) / 1000).toFixed(1);

/** The console line of a sequence event ('' for none). */
function stageLine(e: LogEvent): string {
  const stage = String(e['step']);
  if (e.event === 'stage.start') return `▶ ${stage}`;
  if (e.event === 'stage.done') return `✔ ${stage} (${secs(e['durationMs'])} s)`;
  if (e.event === 'stage.failed') return `✘ ${stage} (${secs(e['durationMs'])} s): ${String(e['summary'])}`;
  return '';
}

/** A stage's start or end, for consoles that show more than the line (a live status with its timeout). */
export interface StageEvent {
  kind: 'start' | 'done' | 'failed';
  stage: string;
  timeoutMs?: number;
}

export class Stages {
  readonly #seq: Sequence;
  readonly #timeouts = new Map<string, number>();

  /** `signal` cancels the stage in progress (ABORTED) and every later one. */
  constructor(onEvent: (line: string, e: StageEvent) => void = () => undefined, signal?: AbortSignal) {
    const log = createLogger([(_, e) => {
      const line = stageLine(e);
      if (!line) return;
      const stage = String(e['step']);
      const timeoutMs = this.#timeouts.get(stage);
      const kind = e.event === 'stage.start' ? 'start' : e.event === 'stage.done' ? 'done' : 'failed';
      onEvent(line, { kind, stage, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    }]);
    this.#seq = new Sequence({ log, ...(signal ? { signal } : {}) }, {
      events: { start: 'stage.start', done: 'stage.done', failed: 'stage.failed', skipped: 'stage.skipped' },
      timeoutCode: 'LAB_TIMEOUT',
      failCode: 'LAB_FAILED',
    });
  }

  get records(): StageRecord[] {
    return this.#seq.records.map((r) => ({
      stage: r.name,
      ok: r.outcome === 'ok',
      startedAt: r.startedAt,
      ms: r.durationMs,
      ...(r.error ? { detail: String(r.error['message']) } : {}),
    }));
  }

  /** Runs one stage; throws its own error, or LAB_TIMEOUT after `timeoutMs` (its signal aborted). */
  run<T>(stage: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.#timeouts.set(stage, timeoutMs);
    return this.#seq.run({ name: stage, timeoutMs, run: fn });
  }

  table(): string {
    return this.records.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.stage.padEnd(28)} ${(r.ms / 1000).toFixed(1).padStart(7)} s${r.detail ? `  ${r.detail.split('\n')[0]}` : ''}`).join('\n');
  }
}
