// Runs the `provision` CLI in-process, capturing what it prints: for tests that
// check exit codes and output exactly as an operator would see them. In its own
// directory because it sits above the whole CLI, while the rest of agent/testing
// sits below the code it tests (loop disks are used by agent/partition itself).
import { main } from '../../cli.js';
import type { CliIO } from '../../core/cli-types.js';

export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}
