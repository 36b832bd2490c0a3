// Structured JSON-lines logging: one object per line on stderr and, when given, a file,
// so the orchestrator and the lab can follow a run without scraping text.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactDeep } from './redact.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogEvent {
  ts: string;
  level: Level;
  event: string;
  [field: string]: unknown;
}

export interface Logger {
  log(level: Level, event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  debug(event: string, fields?: Record<string, unknown>): void;
}

export type Sink = (line: string, e: LogEvent) => void;

export function createLogger(sinks: readonly Sink[], minLevel: Level = 'info'): Logger {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  const log = (level: Level, event: string, fields: Record<string, unknown> = {}): void => {
    if (order[level] < order[minLevel]) return;
    const e: LogEvent = { ts: new Date().toISOString(), level, event, ...fields };
    const line = JSON.stringify(e);
    for (const s of sinks) s(line, e);
  };
  return {
    log,
    info: (ev, f) => log('info', ev, f),
    warn: (ev, f) => log('warn', ev, f),
    error: (ev, f) => log('error', ev, f),
    debug: (ev, f) => log('debug', ev, f),
  };
}

// Every sink prints through these two, so no URL credential or secret query value
// (image, repo, call-back URIs) reaches a terminal, a log file or a test's eyes.
/** The event's line with URL credentials removed (the line itself when it cannot hold one). */
export function redactedLine(line: string, e: LogEvent): string {
  const r = redactedEvent(line, e);
  return r === e ? line : JSON.stringify(r);
}

function redactedEvent(line: string, e: LogEvent): LogEvent {
  return line.includes('://') || line.includes('=') ? redactDeep(e) : e;
}

export const stderrSink: Sink = (line, e) => {
  process.stderr.write(redactedLine(line, e) + '\n');
};

export function fileSink(path: string): Sink {
  mkdirSync(dirname(path), { recursive: true });
  return (line, e) => appendFileSync(path, redactedLine(line, e) + '\n');
}

/** Keeps events in memory (redacted like the other sinks): tests assert on them. */
export function memorySink(into: LogEvent[]): Sink {
  return (line, e) => {
    into.push(redactedEvent(line, e));
  };
}

export const silentLogger: Logger = createLogger([]);
