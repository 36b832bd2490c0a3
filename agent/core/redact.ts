// Credentials never leave the process in text: URLs keep their `user:password@` and
// secret query values in memory (the fetch needs them) and lose them at every output
// boundary — log sinks, the report and plan JSON, the plan printout, image errors.

/** What replaces a removed secret. */
export const REDACTED = '***';

// `scheme://` (schemes are short: the bound keeps the scan linear on huge text),
// then the userinfo up to the LAST `@` before the authority ends (`/`, `?`, `#`,
// whitespace) — the same `@` WHATWG's URL parser splits on, so a password holding
// `@` or a quote is removed whole.
const USERINFO = /([a-z][a-z0-9+.-]{0,31}:\/\/)[^\s/?#]{1,2048}@/gi;

// `?name=value` / `&name=value`; the value is dropped when the name looks secret.
// A quote ends a value so a URL inside a JSON text does not swallow the next field.
const QUERY_PARAM = /([?&])([^=&#\s"]{1,128})=([^&#\s"]*)/g;

/**
 * Query parameter names whose values are secrets, matched as substrings
 * (case-insensitive): token, access_token, X-Amz-Security-Token, password, passwd,
 * pass, pwd, secret, sig, signature, X-Amz-Signature, key, api_key, credential,
 * X-Amz-Credential, auth, session. Over-matching (`?monkey=`) only hides a value.
 */
const SECRET_NAME = /token|pass|pwd|secret|sig|key|credential|auth|session/i;

/** Text with every URL's userinfo and secret query values replaced by `***`. */
export function redactUrlsIn(text: string): string {
  let out = text;
  if (out.includes('://')) out = out.replace(USERINFO, `$1${REDACTED}@`);
  if (out.includes('=')) {
    out = out.replace(QUERY_PARAM, (all, sep: string, name: string, value: string) =>
      value && value !== REDACTED && SECRET_NAME.test(name) ? `${sep}${name}=${REDACTED}` : all,
    );
  }
  return out;
}

/** One URL as it may be printed: `http://***@host/path?token=***`. */
export function redactUrl(url: string | URL): string {
  return redactUrlsIn(typeof url === 'string' ? url : url.href);
}

/**
 * A copy of a JSON-able value with every string redacted (object keys are kept).
 * Objects with `toJSON` (ForgeError, Date) are serialised first, the way
 * JSON.stringify would; cycles and very deep nesting end as a placeholder.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, 0, new WeakSet()) as T;
}

function walk(v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof v === 'string') return redactUrlsIn(v);
  if (v === null || typeof v !== 'object') return v;
  if (depth > 64 || seen.has(v)) return '[redacted: nested too deep]';
  seen.add(v);
  try {
    const j = (v as { toJSON?: unknown }).toJSON;
    if (typeof j === 'function') return walk(j.call(v), depth + 1, seen);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1, seen));
    if (v instanceof Error) return redactUrlsIn(v.message);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x, depth + 1, seen);
    return out;
  } finally {
    seen.delete(v);
  }
}
