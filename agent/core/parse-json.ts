// Tool and protocol output is data we did not write: parse it against a schema
// instead of casting, so a changed tool version fails with the command named
// rather than with `undefined` three calls later.
import type { z } from 'zod';
import { ForgeError, type ErrorCode } from './errors.js';

export interface ParseJsonInit {
  /** What produced the text: the argv of a command, or a name such as `bootstrap task`. */
  command?: readonly string[];
  source?: string;
  /** TOOL_FAILED for command output; callers with their own domain pass theirs. */
  code?: ErrorCode;
}

/** JSON text → value of `schema`'s type; throws ForgeError naming the source and the first bad path. */
export function parseJsonAs<S extends z.ZodType>(schema: S, text: string, init: ParseJsonInit = {}): z.output<S> {
  const code = init.code ?? 'TOOL_FAILED';
  const what = init.source ?? (init.command ? init.command.join(' ') : 'JSON');
  const where = init.command ? { command: init.command } : {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ForgeError(code, `${what}: output is not JSON: ${e instanceof Error ? e.message : String(e)}`, { ...where, cause: e });
  }
  const r = schema.safeParse(doc);
  if (!r.success) {
    const first = r.error.issues[0];
    const path = first?.path.map(String).join('.') || '(root)';
    throw new ForgeError(code, `${what}: unexpected output at ${path}: ${first?.message ?? 'invalid'}`, {
      ...where,
      details: { path, issues: r.error.issues.length },
    });
  }
  return r.data;
}
