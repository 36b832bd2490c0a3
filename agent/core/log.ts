// Structured JSON-lines logging: one object per line on stderr and, when given, a file,
// so the orchestrator and the lab can follow a run without scraping text.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

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

export const stderrSink: Sink = (line) => {
  process.stderr.write(line + '\n');
};

export function fileSink(path: string): Sink {
  mkdirSync(dirname(path), { recursive: true });
  return (line) => appendFileSync(path, line + '\n');
}

/** Keeps events in memory: tests assert on them. */
export function memorySink(into: LogEvent[]): Sink {
  return (_line, e) => {
    into.push(e);
  };
}

export const silentLogger: Logger = createLogger([]);
