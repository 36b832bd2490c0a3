// How an untrusted value is shown in an error, a log line or a report: escaped
// (a newline or NUL in the data never splits or ends a line we print) and cut
// short (a 600 MB input is not echoed back).
import { redactUrlsIn } from './redact.js';

const MAX_SHOWN = 60;

/** A JSON-quoted, escaped, truncated rendering of any input value. */
export function displayValue(v: unknown, max = MAX_SHOWN): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') {
    // Redact before cutting: a cut between a password and its `@` would hide it from redaction.
    const s = redactUrlsIn(v);
    const cut = s.length > max ? s.slice(0, max) : s;
    return escapeLineBreaks(JSON.stringify(cut)) + (s.length > max ? '…' : '');
  }
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return typeof v;
}

/**
 * JSON.stringify leaves U+0085, U+2028 and U+2029 raw; several readers
 * (PyYAML, some terminals, log collectors) treat them as line breaks.
 */
export function escapeLineBreaks(s: string): string {
  return s.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Any text (a message that may embed input) made safe to print as one line:
 * C0/C1 controls, DEL, U+2028/U+2029 and the bidi overrides (which reorder what a
 * terminal shows) escaped (`\n`, `\u0000`), cut at `max` characters so one
 * message cannot flood a terminal or a log collector.
 */
export function oneLineText(s: string, max = Infinity): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) =>
    SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return s.length > max ? `${escaped}…` : escaped;
}
