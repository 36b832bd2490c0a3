// cloud-init's user-data container: a multipart/mixed MIME document, one part per
// handler (text/cloud-config, text/cloud-boothook, text/x-shellscript …).
// `parseMultipart` is strict on purpose: tests read our output back with it,
// so anything malformed fails loudly.
import { createHash } from 'node:crypto';
import { ForgeError } from '../core/errors.js';
import { hasLoneSurrogate } from '../schema/values.js';

export interface MimePart {
  contentType: string;
  filename: string;
  body: string;
}

const MAX_LINE = 998;

function needsBase64(body: string): boolean {
  // 7bit = ASCII without NUL/CR and with lines a mail parser never re-wraps.
  return !/^[\x01-\x0c\x0e-\x7f]*$/.test(body) || body.split('\n').some((l) => l.length > MAX_LINE);
}

function wrap76(s: string): string {
  return s.replace(/.{1,76}/g, '$&\n');
}

/**
 * A boundary no part contains: a digest of the parts (stable output for the same
 * input), re-salted in the unlikely case a body holds it. A body that merely looks
 * like a boundary (`--===============fuel-forge-…`) is harmless: parsers (ours and
 * Python's email package) only split on a line that is exactly `--` + this boundary.
 */
function boundaryFor(parts: readonly MimePart[]): string {
  for (let salt = 0; salt < 16; salt++) {
    const digest = createHash('sha256');
    if (salt) digest.update(`salt ${salt}\0`);
    for (const p of parts) digest.update(p.contentType).update('\0').update(p.body).update('\0');
    const boundary = `===============fuel-forge-${digest.digest('hex').slice(0, 24)}==`;
    if (!parts.some((p) => p.body.includes(boundary))) return boundary;
  }
  throw new ForgeError('CONFIGDRIVE_FAILED', 'no MIME boundary found that no part contains');
}

export function buildMultipart(parts: readonly MimePart[]): string {
  if (!parts.length) throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data needs at least one part');
  for (const p of parts) {
    // UTF-8 cannot carry a lone surrogate: encoding would silently make it U+FFFD.
    if (hasLoneSurrogate(p.body)) throw new ForgeError('CONFIGDRIVE_FAILED', `MIME part ${p.filename}: lone UTF-16 surrogate in the body`);
  }
  const boundary = boundaryFor(parts);
  const out: string[] = [
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    'MIME-Version: 1.0',
    '',
  ];
  for (const p of parts) {
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(p.contentType)) {
      throw new ForgeError('CONFIGDRIVE_FAILED', `bad MIME content type: ${p.contentType}`);
    }
    if (!/^[\w.+-]+$/.test(p.filename)) throw new ForgeError('CONFIGDRIVE_FAILED', `bad MIME part file name: ${p.filename}`);
    const b64 = needsBase64(p.body);
    out.push(
      `--${boundary}`,
      `Content-Type: ${p.contentType}; charset="utf-8"`,
      'MIME-Version: 1.0',
      `Content-Transfer-Encoding: ${b64 ? 'base64' : '7bit'}`,
      `Content-Disposition: attachment; filename="${p.filename}"`,
      '',
    );
    const body = b64 ? wrap76(Buffer.from(p.body, 'utf8').toString('base64')) : p.body;
    // The line break before a boundary belongs to the boundary (RFC 2046), so the
    // body goes in whole: a trailing newline survives the round trip.
    out.push(b64 ? body.slice(0, -1) : body);
  }
  out.push(`--${boundary}--`, '');
  return out.join('\n');
}

interface Headers {
  [lowerName: string]: string;
}

function parseHeaders(block: string, where: string): Headers {
  const h: Headers = {};
  const lines = block.split('\n');
  let last: string | undefined;
  for (const line of lines) {
    if (/^[ \t]/.test(line)) {
      if (!last) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: continuation line before any header`);
      h[last] += ' ' + line.trim();
      continue;
    }
    const m = /^([!-9;-~]+):[ \t]*(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: malformed header line: ${line}`);
    last = m[1].toLowerCase();
    if (last in h) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: duplicate header ${m[1]}`);
    h[last] = m[2].trim();
  }
  return h;
}

/** `text/plain; charset="utf-8"; name=x` → { value, params }. */
export function parseHeaderValue(v: string): { value: string; params: Record<string, string> } {
  const [first = '', ...rest] = v.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const m = /^\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^\s;]*))\s*$/.exec(p);
    if (!m?.[1]) throw new ForgeError('CONFIGDRIVE_FAILED', `malformed header parameter: ${p.trim()}`);
    params[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  }
  return { value: first.trim().toLowerCase(), params };
}

function splitHead(text: string, where: string): [string, string] {
  const i = text.indexOf('\n\n');
  if (i < 0) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: no blank line after the headers`);
  return [text.slice(0, i), text.slice(i + 2)];
}

export function parseMultipart(doc: string): MimePart[] {
  const text = doc.replace(/\r\n/g, '\n');
  const [head, body] = splitHead(text, 'user-data');
  const h = parseHeaders(head, 'user-data');
  const ct = parseHeaderValue(h['content-type'] ?? '');
  if (ct.value !== 'multipart/mixed') throw new ForgeError('CONFIGDRIVE_FAILED', `user-data: not multipart/mixed: ${ct.value}`);
  if (h['mime-version'] !== '1.0') throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data: MIME-Version 1.0 missing');
  const boundary = ct.params.boundary;
  if (!boundary) throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data: multipart without boundary');
  const lines = body.split('\n');
  const delim = `--${boundary}`;
  const close = `--${boundary}--`;
  const closeAt = lines.indexOf(close);
  if (closeAt < 0) throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data: closing boundary missing');
  if (lines.slice(closeAt + 1).some((l) => l.trim())) {
    throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data: content after the closing boundary');
  }
  const starts = lines.flatMap((l, i) => (l === delim && i < closeAt ? [i] : []));
  if (!starts.length) throw new ForgeError('CONFIGDRIVE_FAILED', 'user-data: no parts');
  return starts.map((s, n) => {
    const end = starts[n + 1] ?? closeAt;
    const where = `user-data part ${n + 1}`;
    const [ph, pb] = splitHead(lines.slice(s + 1, end).join('\n'), where);
    const hh = parseHeaders(ph, where);
    const pct = parseHeaderValue(hh['content-type'] ?? '');
    if (!pct.value) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: Content-Type missing`);
    const cte = (hh['content-transfer-encoding'] ?? '7bit').toLowerCase();
    let content: string;
    if (cte === 'base64') {
      const clean = pb.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: invalid base64`);
      content = Buffer.from(clean, 'base64').toString('utf8');
    } else if (cte === '7bit' || cte === '8bit') {
      content = pb;
    } else {
      throw new ForgeError('CONFIGDRIVE_FAILED', `${where}: unsupported transfer encoding ${cte}`);
    }
    const disp = parseHeaderValue(hh['content-disposition'] ?? 'attachment');
    return { contentType: pct.value, filename: disp.params.filename ?? `part-${n + 1}`, body: content };
  });
}
