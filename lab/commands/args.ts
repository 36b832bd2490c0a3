// node:util's parseArgs for the lab's commands, strict: a bad option is a USAGE
// error (exit 2) naming the option and ending with the command's usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseLabArgs<const O extends Options>(args: readonly string[], options: O, usage: string, positionals = false) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // node:util quotes the option: "Unknown option '--frobnicate'", "Option '--out <value>' argument missing".
    const named = /'(--?[^'\s<]+)/.exec(message)?.[1];
    throw new ForgeError('USAGE', `${message}\n${usage}`, named === undefined ? {} : { field: named });
  }
}
