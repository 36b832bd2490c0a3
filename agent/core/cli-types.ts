// The CLI's shape, shared by the entry point, the command modules and the
// command runners they call: a sub-command of `provision` parses its own options
// and returns the exit code.
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What the entry point hands every command besides its arguments. */
export interface CommandEnv {
  /** Aborted by SIGINT/SIGTERM (reason: ForgeError ABORTED); goes into the command's ctx. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** The option list `--help` prints after the summary (from the command's option table). */
  options?: string;
  run(args: string[], io: CliIO, env: CommandEnv): Promise<number>;
}
