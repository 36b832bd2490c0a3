// The lab's commands (tsx lab/cli.ts <command>; usage below):
//   demo, replay                  provision a VM end to end / a field case in a VM (--keep leaves it running)
//   matrix, merge                 every scenario, or a CI machine's shard of them; join the shards' results
//   console, ssh, disks           hands on a kept node; ls, down: what runs here, tear it down
import { isForgeError } from '../agent/core/errors.js';
import { printError } from '../agent/core/format-error.js';
import { abortOnSignals } from '../agent/core/signals.js';
import { consoleCommand, DETACH_KEY_NAME } from './commands/console.js';
import { DEMO_USAGE, demoCommand } from './commands/demo.js';
import { disksCommand } from './commands/disks.js';
import { downCommand } from './commands/down.js';
import { lsCommand } from './commands/ls.js';
import { MATRIX_USAGE, matrixCommand } from './commands/matrix.js';
import { MERGE_USAGE, mergeCommand } from './commands/merge.js';
import { REPLAY_USAGE, replayCommand } from './commands/replay.js';
import { sshCommand } from './commands/ssh.js';

const USAGE = [
  DEMO_USAGE,
  REPLAY_USAGE,
  MATRIX_USAGE,
  MERGE_USAGE,
  'hands on a kept node (`--lab PID` picks the lab when several are kept):',
  `       tsx lab/cli.ts console <node>              its serial console (detach: ${DETACH_KEY_NAME})`,
  '       tsx lab/cli.ts ssh <node> [-- CMD…]        root with the lab key (a provisioned node)',
  '       tsx lab/cli.ts disks <node> [--timeout S]  power it off, then its disks as the host reads them (checked against the plan)',
  '       tsx lab/cli.ts ls [--json]                 every lab resource here: running, or leftover of a run that died',
  '       tsx lab/cli.ts down [--all] [--timeout S]  end kept labs, remove leftovers (--all: also labs of live processes, the lab dockerd)',
].join('\n');

/** Every command: its name → how it runs (one entry per command). */
const COMMANDS: Readonly<Record<string, (args: string[], signal: AbortSignal) => Promise<number>>> = {
  demo: demoCommand,
  replay: replayCommand,
  matrix: matrixCommand,
  merge: mergeCommand,
  console: consoleCommand,
  ssh: sshCommand,
  disks: disksCommand,
  ls: lsCommand,
  down: downCommand,
};

async function main(): Promise<number> {
  const [cmd, ...rest] = process.argv.slice(2);
  // Ctrl-C ends the stage in progress (or a kept lab's wait); `await using` then tears the lab down (VMs, containers, bridge).
  using scope = abortOnSignals();
  const run = cmd !== undefined && Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!run) {
    process.stdout.write(USAGE + '\n');
    return 2;
  }
  return await run(rest, scope.signal);
}

main().then((code) => process.exit(code), (e: unknown) => {
  const err = (t: string): void => void process.stderr.write(t + '\n');
  // The provision CLI's renderer; a lab failure also shows its details, and a bug its stack.
  const code = printError(e, err, { stack: !isForgeError(e) || Boolean(process.env.FORGE_DEBUG) });
  if (isForgeError(e) && Object.keys(e.details).length) err(JSON.stringify(e.details, null, 2).slice(0, 4000));
  process.exit(code);
});
