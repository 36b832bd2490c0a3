// Each command's options, declared once: one table gives the parser (node:util
// parseArgs, strict), the typed values, the usage line and the --help list. Bad
// options are USAGE errors (exit 2) that end with the usage text.
import { parseArgs } from 'node:util';
import { DEFAULT_INPUT } from '../schema/load.js';
import type { CliIO, Command, CommandEnv } from '../core/cli-types.js';
import { ForgeError } from '../core/errors.js';
import { DEFAULT_FETCH } from '../image/types.js';

export interface StringOption {
  type: 'string';
  /** Placeholder in the usage text: FILE, URL, SECONDS. */
  arg: string;
  help: string;
  default?: string;
  /** The accepted values; anything else is a USAGE error naming the option. */
  choices?: readonly string[];
  /** Must be given (shown without brackets in the usage). */
  required?: true;
}

export interface BooleanOption {
  type: 'boolean';
  help: string;
}

export type OptionSpec = StringOption | BooleanOption;
export type OptionTable = Record<string, OptionSpec>;

/** The parsed values: booleans are always there, strings when given or defaulted, choices as their union. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends BooleanOption
    ? boolean
    : T[K] extends { choices: readonly (infer C)[] }
      ? T[K] extends { default: string } | { required: true } ? C : C | undefined
      : T[K] extends { default: string } | { required: true } ? string : string | undefined;
};

export interface Options<T extends OptionTable> {
  readonly table: T;
  /** `usage: provision NAME [--opt ARG (default X)] …`, wrapped as the hand-written ones were. */
  usage(name: string): string;
  /** One line per option: flag, placeholder, help and default. */
  help(): string;
  /** Strict parse; a problem is a USAGE error naming the option, followed by `usage(name)`. */
  parse(args: readonly string[], name: string): OptionValues<T>;
}

const WIDTH = 110;
const INDENT = '        ';

function flag(name: string, o: OptionSpec): string {
  if (o.type === 'boolean') return `[--${name}]`;
  const arg = o.choices ? o.choices.join('|') : o.arg;
  const text = `--${name} ${arg}${o.default === undefined ? '' : ` (default ${o.default})`}`;
  return o.required ? text : `[${text}]`;
}

/** Words joined into lines of at most WIDTH, continuation lines indented. */
function wrap(head: string, words: readonly string[]): string {
  const lines: string[] = [];
  let line = head;
  for (const w of words) {
    if (line.length + 1 + w.length > WIDTH && line.trim() !== '') {
      lines.push(line);
      line = INDENT + w;
    } else {
      line = line === INDENT || line === '' ? line + w : `${line} ${w}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

export interface DefineOptions {
  /** Appended, in parentheses, to node:util's complaint about an option (`with --out only … apply`). */
  note?: string;
}

export function defineOptions<const T extends OptionTable>(table: T, o: DefineOptions = {}): Options<T> {
  // Required options first, as a reader expects them.
  const entries = Object.entries(table).sort(([, a], [, b]) => Number(b.type === 'string' && b.required === true) - Number(a.type === 'string' && a.required === true));
  const usage = (name: string): string => wrap(`usage: provision ${name}`, entries.map(([n, s]) => flag(n, s)));
  return {
    table,
    usage,
    help: () => {
      const rows = Object.entries(table).map(([n, s]) => [`  --${n}${s.type === 'string' ? ` ${s.choices ? s.choices.join('|') : s.arg}` : ''}`, s] as const);
      const w = Math.max(...rows.map(([f]) => f.length));
      return rows
        .map(([f, s]) => `${f.padEnd(w)}  ${s.help}${s.type === 'string' && s.default !== undefined ? ` (default ${s.default})` : ''}`)
        .join('\n');
    },
    parse(args, name) {
      let values: Record<string, string | boolean | undefined>;
      try {
        const options = Object.fromEntries(Object.entries(table).map(([n, s]) => [n, { type: s.type }]));
        values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        // node:util names the option in quotes: "Unknown option '--frobnicate'", "Option '--input <value>' argument missing".
        const named = /'--?([^'\s<]+)/.exec(message)?.[1];
        throw new ForgeError('USAGE', `${message}${o.note ? ` (${o.note})` : ''}\n${usage(name)}`, named === undefined ? {} : { field: named });
      }
      const out: Record<string, string | boolean | undefined> = {};
      for (const [n, s] of Object.entries(table)) {
        const v = values[n];
        if (s.type === 'boolean') {
          out[n] = v === true;
          continue;
        }
        const text = typeof v === 'string' ? v : s.default;
        if (text === undefined && s.required) throw new ForgeError('USAGE', `--${n} ${s.arg} is required\n${usage(name)}`, { field: n });
        if (text !== undefined && s.choices && !s.choices.includes(text)) {
          throw new ForgeError('USAGE', `--${n} must be ${orList(s.choices)}, got ${text}`, { field: n });
        }
        out[n] = text;
      }
      return out as OptionValues<T>;
    },
  };
}

/**
 * A command whose options are its table: usage and `--help` come from it, and
 * `run` receives the parsed values (a bad option is a USAGE error before it runs).
 */
export function optionCommand<T extends OptionTable>(c: {
  name: string;
  summary: string;
  options: Options<T>;
  run(values: OptionValues<T>, io: CliIO, env: CommandEnv): Promise<number>;
}): Command {
  return {
    name: c.name,
    summary: c.summary,
    usage: c.options.usage(c.name),
    ...(Object.keys(c.options.table).length ? { options: c.options.help() } : {}),
    run: (args, io, env) => c.run(c.options.parse(args, c.name), io, env),
  };
}

function orList(xs: readonly string[]): string {
  return xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

// Option groups several commands share, declared here once.

export const inputOptions = {
  input: { type: 'string', arg: 'FILE', default: DEFAULT_INPUT, help: 'the provision data (Nailgun format)' },
  inventory: { type: 'string', arg: 'FILE', help: 'read the disks from this inventory JSON instead of the machine' },
} as const satisfies OptionTable;

export const planOption = {
  plan: { type: 'string', arg: 'PLAN.json', help: 'use this plan (provision plan --json) instead of planning from --input' },
} as const satisfies OptionTable;

export const dryRunOption = {
  'dry-run': { type: 'boolean', help: 'print every command a real run would execute; execute none that writes' },
} as const satisfies OptionTable;

export const jsonOption = {
  json: { type: 'boolean', help: 'print JSON' },
} as const satisfies OptionTable;

export const allowUnverifiedOption = {
  'allow-unverified': { type: 'boolean', help: 'write an image that has no checksum (logged as image.UNVERIFIED)' },
} as const satisfies OptionTable;

export const stallTimeoutOption = {
  'stall-timeout': { type: 'string', arg: 'SECONDS', default: String(DEFAULT_FETCH.stallTimeoutMs / 1000), help: 'give up on a download that sends nothing for this long' },
} as const satisfies OptionTable;

export const cacheDirOption = {
  'cache-dir': { type: 'string', arg: 'DIR', help: 'build cache (default $FORGE_CACHE_DIR or /var/cache/fuel-forge)' },
} as const satisfies OptionTable;

export const debootstrapOptions = {
  suite: { type: 'string', arg: 'bookworm', help: 'Debian suite' },
  mirror: { type: 'string', arg: 'URL', help: 'Debian mirror' },
  packages: { type: 'string', arg: 'a,b,c', help: 'extra packages, comma-separated' },
} as const satisfies OptionTable;

/** `a, b ,,c` → ['a', 'b', 'c']. */
export function commaList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}
