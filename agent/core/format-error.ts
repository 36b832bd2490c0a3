// The one way a failure is printed for an operator: one line per problem,
// `error [CODE] <message>`, where the message names its field first
// (`error [CONFIG_INVALID] ks_meta.hostname: must be …`). Used by every CLI
// entry point, so schema lists, plan errors and tool failures look alike.
import { oneLineText } from './display.js';
import { exitCodeFor, ForgeErrors, isForgeError } from './errors.js';
import { redactUrlsIn } from './redact.js';

/** Longest line printed for one problem: a message quoting a huge value is cut, not echoed. */
export const MAX_ERROR_LINE = 2000;

/** A USAGE error's message ends with the command's usage text (`…\nusage: provision plan …`). */
const USAGE_START = '\nusage: ';

function line(code: string, message: string): string {
  // Credentials in a URL are removed before anything else: an error line is printed, logged, reported.
  return `error [${code}] ${oneLineText(redactUrlsIn(message), MAX_ERROR_LINE)}`;
}

/**
 * Lines to print for `e`: one per problem (a ForgeErrors list is flattened),
 * each escaped to a single line; a USAGE error is followed by its usage text.
 * Anything that is not a ForgeError is a bug and says so (`INTERNAL`, as in the report).
 */
export function formatError(e: unknown): string[] {
  if (e instanceof ForgeErrors && e.errors.length > 0) return e.errors.flatMap(formatError);
  if (isForgeError(e)) {
    const at = e.code === 'USAGE' ? e.message.lastIndexOf(USAGE_START) : -1;
    if (at < 0) return [line(e.code, e.message)];
    // The usage text is ours (no input in it); the part before it may quote argv.
    const usage = e.message.slice(at + 1).split('\n').map((l) => oneLineText(l));
    return [line(e.code, e.message.slice(0, at)), ...usage];
  }
  if (e instanceof Error) return [line('INTERNAL', `${e.name}: ${e.message}`)];
  return [line('INTERNAL', safeString(e))];
}

/**
 * The one place a failure reaches an operator: its formatError lines through `write`
 * (the stack too with FORGE_DEBUG set, or `stack: true`), and the exit code it means.
 */
export function printError(e: unknown, write: (text: string) => void, o: { stack?: boolean } = {}): number {
  write(formatError(e).join('\n'));
  if ((o.stack ?? Boolean(process.env.FORGE_DEBUG)) && e instanceof Error && e.stack) write(e.stack);
  return exitCodeFor(e);
}

function safeString(v: unknown): string {
  try {
    return String(v);
  } catch {
    return `a thrown ${typeof v}`; // an object without toString
  }
}
