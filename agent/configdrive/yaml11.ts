// YAML for cloud-init. cloud-init reads every YAML file we give it (cloud-config,
// NoCloud meta-data and network-config) with PyYAML's YAML 1.1 safe loader, where
// `yes`, `off`, `~`, `12:30:45`, `0b101`, `2024-01-02`, `<<` and `=` are not
// strings, and U+0085/U+2028/U+2029 are line breaks. So this emitter decides the
// style of every scalar itself instead of trusting a YAML 1.2 library:
//  - a string is written plain only when it is plainly a string in YAML 1.1
//    (a letter, `_` or `/` first, then [A-Za-z0-9_./@+-], and not a boolean or
//    null word in any case); everything else is double-quoted;
//  - double-quoted strings escape everything outside printable ASCII (`\n`, `\t`,
//    `\N`, `\L`, `\P`, `\xHH`, `\uHHHH`, `\UHHHHHHHH`): the output is pure ASCII, so
//    no charset or transfer encoding between us and PyYAML can change a value;
//  - multi-line printable-ASCII text (write_files contents) is a literal block with
//    an explicit indentation indicator and chomping, so it stays readable;
//  - numbers are written in forms PyYAML 1.1 reads back as the same number.
// Anything that cannot be represented exactly (lone UTF-16 surrogates, NaN, class
// instances) throws instead of being changed.
import { ForgeError } from '../core/errors.js';
import { hasLoneSurrogate } from '../schema/values.js';

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
/** YAML 1.1 booleans (and PyYAML's null word) that PLAIN would otherwise let through. */
const RESERVED_WORD = /^(?:y|n|yes|no|true|false|on|off|null)$/i;
/** Printable ASCII that needs no escape inside double quotes. */
const DQ_RAW = /^[\x20-\x21\x23-\x5b\x5d-\x7e]$/;
/** Text a literal block keeps byte for byte (no CR, no unicode line breaks, no controls). */
const BLOCK_TEXT = /^[\t\n\x20-\x7e]*$/;
/** PyYAML refuses implicit (simple) keys longer than 1024 characters. */
const MAX_SIMPLE_KEY = 512;
const INDENT = 2;

const NAMED_ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  '"': '\\"',
  '\\': '\\\\',
  '\u0085': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** True when `s` can be written unquoted and PyYAML 1.1 still reads exactly this string. */
export function isPlainSafe(s: string): boolean {
  return PLAIN.test(s) && !RESERVED_WORD.test(s);
}

function fail(path: string, why: string): never {
  throw new ForgeError('CONFIGDRIVE_FAILED', `cannot write ${path || 'document'} as YAML for cloud-init: ${why}`, {
    details: { yamlPath: path },
  });
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

/** A double-quoted YAML scalar, pure ASCII, on one line. */
export function quoteDouble(s: string, path = ''): string {
  if (hasLoneSurrogate(s)) fail(path, 'string holds a lone UTF-16 surrogate (not representable in UTF-8)');
  let out = '"';
  for (const ch of s) {
    const named = NAMED_ESCAPES[ch];
    if (named) out += named;
    else if (DQ_RAW.test(ch)) out += ch;
    else {
      const cp = ch.codePointAt(0) ?? 0;
      out += cp < 0x100 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    }
  }
  return `${out}"`;
}

function scalarString(s: string, path: string): string {
  return isPlainSafe(s) ? s : quoteDouble(s, path);
}

/** A literal block (`|2-`, `|2`, `|2+`) for printable-ASCII text with line breaks, else undefined. */
function literalBlock(s: string, pad: string): string | undefined {
  if (!s.includes('\n') || !BLOCK_TEXT.test(s)) return undefined;
  const body = s.replace(/\n+$/, '');
  if (body === '') return undefined; // only line breaks: a block cannot say how many
  const trailing = s.length - body.length;
  // An explicit indentation indicator: leading spaces or blank lines in the text
  // cannot be mistaken for indentation. Chomping keeps exactly the trailing breaks.
  const header = `|${INDENT}${trailing === 0 ? '-' : trailing === 1 ? '' : '+'}`;
  const lines = body.split('\n').map((l) => (l === '' ? '' : pad + l));
  return [header, ...lines, ...Array<string>(Math.max(0, trailing - 1)).fill('')].join('\n');
}

function scalarNumber(n: number, path: string): string {
  if (!Number.isFinite(n)) fail(path, `number ${n} has no exact YAML 1.1 form`);
  if (Number.isSafeInteger(n)) return String(n); // -0 too: "0"
  const s = String(n);
  if (/^-?\d+\.\d+$/.test(s)) return s;
  // Beyond 2^53 or tiny: a float, so the reader gets this double and not a nearby
  // integer. YAML 1.1 floats need a dot and a signed exponent: 1e+21 → 1.0e+21.
  const m = /^(-?\d+)(\.\d+)?e([+-]\d+)$/.exec(n.toExponential());
  if (!m) fail(path, `number ${s} has no exact YAML 1.1 form`);
  return `${m[1]}${m[2] ?? '.0'}e${m[3]}`;
}

type Obj = Record<string, unknown>;

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A scalar, or undefined when `v` is a non-empty collection. */
function inline(v: unknown, path: string): string | undefined {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return scalarNumber(v, path);
  if (typeof v === 'string') return scalarString(v, path);
  if (Array.isArray(v)) return v.length ? undefined : '[]';
  if (isPlainObject(v)) return Object.values(v).some((x) => x !== undefined) ? undefined : '{}';
  return fail(path, `unsupported value of type ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}`);
}

/**
 * The text after an indicator (`key:`, `-`, `? `-key `:`) for value `v` of a
 * collection whose entries start at `pad`: ` scalar`, ` |2…` plus its lines, or a
 * line break plus the nested collection indented one step more.
 */
function afterIndicator(v: unknown, pad: string, path: string): string {
  const inner = pad + ' '.repeat(INDENT);
  if (typeof v === 'string') {
    const block = literalBlock(v, inner);
    if (block !== undefined) return ` ${block}`;
  }
  const s = inline(v, path);
  if (s !== undefined) return ` ${s}`;
  return `\n${collection(v, inner, path)}`;
}

function collection(v: unknown, pad: string, path: string): string {
  const lines: string[] = [];
  if (Array.isArray(v)) {
    const inner = pad + ' '.repeat(INDENT);
    v.forEach((item, i) => {
      const where = `${path}[${i}]`;
      if (item === undefined) fail(where, 'undefined list item');
      // A nested collection starts on the dash's line (`- key: v`, `- - v`).
      const compact = typeof item === 'object' && inline(item, where) === undefined;
      lines.push(compact ? `${pad}- ${collection(item, inner, where).slice(inner.length)}` : `${pad}-${afterIndicator(item, pad, where)}`);
    });
    return lines.join('\n');
  }
  for (const [k, item] of Object.entries(v as Obj)) {
    if (item === undefined) continue;
    const where = path ? `${path}.${k}` : k;
    const key = scalarString(k, where);
    // Long keys use the explicit form `? key` / `: value`.
    const head = key.length > MAX_SIMPLE_KEY ? `${pad}? ${key}\n${pad}:` : `${pad}${key}:`;
    lines.push(`${head}${afterIndicator(item, pad, where)}`);
  }
  return lines.join('\n');
}

/** `doc` (plain JSON-like data) as YAML that PyYAML 1.1 reads back as exactly `doc`. */
export function toCloudYaml(doc: unknown): string {
  const s = inline(doc, '');
  if (s !== undefined) return `${s}\n`;
  return `${collection(doc, '', '')}\n`;
}
