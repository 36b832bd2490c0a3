// `provision` entry point: dispatch to a sub-command, turn every failure into
// `error [CODE] …` lines (one per problem, formatError) and an exit code
// (2 = bad input, 1 = a step failed), never a stack trace.
import { commands, DEFAULT_COMMAND } from './commands/index.js';
import type { CliIO } from './commands/types.js';
import { displayValue } from './core/display.js';
import { exitCodeFor, ForgeError } from './core/errors.js';
import { formatError } from './core/format-error.js';
import { VERSION } from './version.js';

const stdio: CliIO = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

function usage(): string {
  const names = Object.keys(commands).sort();
  return [
    `provision ${VERSION} — image-based bare-metal provisioning agent`,
    '',
    'usage: provision [COMMAND] [OPTIONS]',
    `commands: ${names.join(', ')}`,
    `without a command: ${DEFAULT_COMMAND}`,
    'provision COMMAND --help for its options',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--version' || first === 'version') {
    io.out(`provision ${VERSION}`);
    return 0;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    io.out(usage());
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? DEFAULT_COMMAND : first;
  const args = name === first ? rest : argv;
  const load = commands[name];
  if (!load) {
    io.err([...formatError(new ForgeError('USAGE', `unknown command ${displayValue(name)}`, { field: 'command' })), usage()].join('\n'));
    return 2;
  }
  try {
    const cmd = await load();
    if (args.includes('--help')) {
      io.out(`${cmd.usage}\n\n${cmd.summary}`);
      return 0;
    }
    return await cmd.run(args, io);
  } catch (e) {
    io.err(formatError(e).join('\n'));
    if (process.env.FORGE_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    return exitCodeFor(e);
  }
}

// Run when executed directly (tsx, the bin shim, or the esbuild bundle).
const entry = process.argv[1] ?? '';
if (/(?:^|\/)(cli\.[tj]s|provision(\.m?js)?)$/.test(entry) || process.env.FORGE_CLI_MAIN === '1') {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(formatError(e).join('\n') + '\n');
      process.exitCode = 1;
    },
  );
}
