// `provision` entry point: dispatch to a sub-command, turn every failure into
// `error [CODE] …` lines (one per problem, printError) and an exit code
// (2 = bad input, 1 = a step failed, 130/143 = stopped by SIGINT/SIGTERM), never a
// stack trace. SIGINT/SIGTERM abort the command's signal (see core/signals.ts).
import { commands, DEFAULT_COMMAND } from './commands/index.js';
import type { CliIO, CommandEnv } from './core/cli-types.js';
import { displayValue } from './core/display.js';
import { ForgeError } from './core/errors.js';
import { formatError, printError } from './core/format-error.js';
import { abortOnSignals, SIGNAL_EXIT_CODES } from './core/signals.js';
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

/**
 * Runs one command. Without `env`, SIGINT/SIGTERM abort the command's signal while it
 * runs; a command the signal stopped exits 128 + the signal number.
 */
export async function main(argv: string[], io: CliIO = stdio, env?: CommandEnv): Promise<number> {
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
  const signals = env ? undefined : abortOnSignals();
  let code: number;
  try {
    const cmd = await load();
    if (args.includes('--help')) {
      io.out([cmd.usage, '', cmd.summary, ...(cmd.options ? ['', 'options:', cmd.options] : [])].join('\n'));
      return 0;
    }
    code = await cmd.run(args, io, env ?? { signal: signals!.signal });
  } catch (e) {
    code = printError(e, io.err);
  } finally {
    signals?.dispose();
  }
  const stoppedBy = signals?.received;
  return code !== 0 && stoppedBy ? SIGNAL_EXIT_CODES[stoppedBy] : code;
}

// Run when executed directly (tsx, the bin shim, or the esbuild bundle).
const entry = process.argv[1] ?? '';
if (/(?:^|\/)(cli\.[tj]s|provision(\.m?js)?)$/.test(entry) || process.env.FORGE_CLI_MAIN === '1') {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Stopped by a signal: the report is out; whatever a step left pending (a socket, a timer) must not hold the exit.
      if (code > 128) setTimeout(() => process.exit(code), 1_000).unref();
    },
    (e: unknown) => {
      printError(e, stdio.err);
      process.exitCode = 1;
    },
  );
}
