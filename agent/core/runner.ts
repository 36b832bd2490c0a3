// The one way the agent runs an external program: argv arrays only (never a
// shell string), a timeout, a pinned C locale, and a record of every run.
import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';
import { ForgeError } from './errors.js';
import { killOnExit } from './live-children.js';

const TAIL_CHARS = 4096;

export interface RunOptions {
  /** Kill the program after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Extra environment; LC_ALL=C is always set so output parses the same everywhere. */
  env?: Record<string, string>;
  cwd?: string;
  /** Bytes or text written to stdin. */
  input?: string | Uint8Array;
  /** Exit codes that count as success (default [0]). */
  okExitCodes?: readonly number[];
  /**
   * The command only reads state (lsblk, blkid, pvs …). A dry run still executes
   * read-only commands when probing is allowed, and only records the others.
   */
  readOnly?: boolean;
  /** Abort the program when this signal fires. */
  signal?: AbortSignal;
  /** Called with each complete stderr line as the program writes it (stderr is still buffered). */
  onStderrLine?: (line: string) => void;
  /**
   * The program gets this process's terminal (stdin, stdout, stderr inherited: an
   * interactive ssh session). Nothing is captured; no timeout unless one is given.
   */
  interactive?: boolean;
}

/** okExitCodes for a command whose exit code the caller interprets itself (ssh, mco). */
export const ANY_EXIT: readonly number[] = Array.from({ length: 256 }, (_, i) => i);

export interface RunResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  /** True when a dry run recorded the command instead of executing it. */
  skipped: boolean;
}

/** What the runner remembers about each run (tails only, so long runs stay cheap). */
export interface RunRecord {
  argv: readonly string[];
  exitCode: number;
  durationMs: number;
  timedOut: boolean;
  skipped: boolean;
  stdoutTail: string;
  stderrTail: string;
}

/** A running program whose stdin/stdout the caller streams (decompressors, qemu-img). */
export interface StreamingProcess {
  stdin: Writable;
  stdout: Readable;
  /** Settles when the program exits; rejects with ToolError on failure. */
  result: Promise<RunResult>;
  kill(): void;
}

/** Options for a program that outlives the call (a VM): no default timeout. */
export interface StartOptions extends Pick<RunOptions, 'env' | 'cwd' | 'signal' | 'onStderrLine'> {
  /** Kill it after this long; default never. */
  timeoutMs?: number;
  /** Own process group, so kill() reaches everything it forked. */
  group?: boolean;
  /** Called with each complete stdout line (stdout is ignored without it). */
  onStdoutLine?: (line: string) => void;
}

/** How a started program ended; `signal` names the signal that killed it. */
export interface ProcessExit extends RunResult {
  signal?: string;
}

/** A program started by `Runner.start`, killed on process exit if still running. */
export interface StartedProcess {
  readonly argv: readonly string[];
  readonly pid: number;
  /** Settles (never rejects) when the program ends; the run is recorded then. */
  readonly exited: Promise<ProcessExit>;
  /** The last lines it wrote to stderr so far (the same tail `exited` reports). */
  stderrTail(): string;
  /** Sends `signal` (default SIGKILL) to the program, or to its group when started with `group`. */
  kill(signal?: NodeJS.Signals): void;
}

export interface Runner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  spawn(argv: readonly string[], opts?: Omit<RunOptions, 'input'>): StreamingProcess;
  /** Starts a long-lived program; throws TOOL_MISSING when it cannot start. */
  start(argv: readonly string[], opts?: StartOptions): StartedProcess;
  /** Every run so far, in order. */
  readonly history: readonly RunRecord[];
}

export function tail(text: string, n = TAIL_CHARS): string {
  return text.length > n ? text.slice(text.length - n) : text;
}

/** A command that failed, timed out or could not start. */
export class ToolError extends ForgeError {
  override readonly name = 'ToolError';
  readonly result: RunResult;

  constructor(result: RunResult, cause?: unknown) {
    const tool = result.argv[0] ?? '?';
    const why = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
    const err = tail(result.stderr.trim(), 400);
    super(
      result.timedOut ? 'TOOL_TIMEOUT' : result.exitCode === 127 ? 'TOOL_MISSING' : 'TOOL_FAILED',
      `${tool} ${why}: ${result.argv.join(' ')}${err ? `\n  stderr: ${err}` : ''}`,
      {
        command: result.argv,
        details: {
          exitCode: result.exitCode,
          durationMs: result.durationMs,
          stderrTail: tail(result.stderr),
          stdoutTail: tail(result.stdout),
        },
        cause,
      },
    );
    this.result = result;
  }
}

function toRecord(r: RunResult): RunRecord {
  return {
    argv: r.argv,
    exitCode: r.exitCode,
    durationMs: r.durationMs,
    timedOut: r.timedOut,
    skipped: r.skipped,
    stdoutTail: tail(r.stdout, 1024),
    stderrTail: tail(r.stderr, 1024),
  };
}

function checkArgv(argv: readonly string[]): void {
  if (argv.length === 0 || !argv[0]) throw new ForgeError('USAGE', 'runner: empty argv');
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

interface ExecaOutcome {
  exitCode?: number | undefined;
  stdout?: unknown;
  stderr?: unknown;
  timedOut?: boolean;
  failed?: boolean;
  code?: string | undefined;
}

function outcomeToResult(argv: readonly string[], o: ExecaOutcome, started: number): RunResult {
  const missing = o.code === 'ENOENT';
  return {
    argv,
    exitCode: missing ? 127 : (o.exitCode ?? -1),
    stdout: typeof o.stdout === 'string' ? o.stdout : '',
    stderr: missing ? `${argv[0]}: command not found` : typeof o.stderr === 'string' ? o.stderr : '',
    durationMs: Date.now() - started,
    timedOut: o.timedOut === true,
    skipped: false,
  };
}

/** Calls `onLine` per complete line of a text stream; the returned function flushes a last partial line. */
function followLines(stream: Readable, onLine: (line: string) => void): () => void {
  let partial = '';
  stream.on('data', (chunk: Buffer | string) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  return () => {
    if (partial) onLine(partial);
    partial = '';
  };
}

/** execa options every way of running shares: failures as data, the C locale, cwd, cancellation. */
function baseOptions(opts: Pick<RunOptions, 'env' | 'cwd' | 'signal'>) {
  return {
    reject: false,
    env: { LC_ALL: 'C', ...opts.env },
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.signal === undefined ? {} : { cancelSignal: opts.signal }),
  } as const;
}

export interface ExecaRunnerOptions {
  /** Called with each finished run's record, as it is recorded (a log of slow commands). */
  onRecord?: (record: RunRecord) => void;
}

/** The production runner, on execa. */
export class ExecaRunner implements Runner {
  readonly #history: RunRecord[] = [];
  readonly #onRecord: ((record: RunRecord) => void) | undefined;
  constructor(opts: ExecaRunnerOptions = {}) {
    this.#onRecord = opts.onRecord;
  }
  get history(): readonly RunRecord[] {
    return this.#history;
  }

  #record(result: RunResult): void {
    const record = toRecord(result);
    this.#history.push(record);
    this.#onRecord?.(record);
  }

  /** Records a finished run and throws ToolError unless it counts as success. */
  #settle(argv: readonly string[], outcome: ExecaOutcome, started: number, okExitCodes: readonly number[] = [0]): RunResult {
    const result = outcomeToResult(argv, outcome, started);
    this.#record(result);
    if (!okExitCodes.includes(result.exitCode) || result.timedOut) throw new ToolError(result);
    return result;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    checkArgv(argv);
    const started = Date.now();
    const [file, ...args] = argv as [string, ...string[]];
    const io = opts.interactive
      ? { stdio: 'inherit' as const }
      : { ...(opts.input === undefined ? { stdin: 'ignore' as const } : { input: opts.input }), stripFinalNewline: false, maxBuffer: 256 * 1024 * 1024 };
    const child = execa(file, args, {
      ...baseOptions(opts),
      timeout: opts.timeoutMs ?? (opts.interactive ? 0 : DEFAULT_TIMEOUT_MS),
      ...io,
    });
    const flushLines = opts.onStderrLine && child.stderr ? followLines(child.stderr, opts.onStderrLine) : undefined;
    const outcome = (await child) as ExecaOutcome;
    flushLines?.();
    return this.#settle(argv, outcome, started, opts.okExitCodes);
  }

  spawn(argv: readonly string[], opts: Omit<RunOptions, 'input'> = {}): StreamingProcess {
    checkArgv(argv);
    const started = Date.now();
    const [file, ...args] = argv as [string, ...string[]];
    const child = execa(file, args, {
      ...baseOptions(opts),
      timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: { stdout: false, stderr: true },
      stripFinalNewline: false,
    });
    const result = (async () => this.#settle(argv, (await child) as ExecaOutcome, started, opts.okExitCodes))();
    // Callers usually observe failure through the stream first; avoid an unhandled rejection.
    result.catch(() => undefined);
    if (!child.stdin || !child.stdout) throw new ForgeError('TOOL_FAILED', `${file}: no stdio pipes`);
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      result,
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  }

  start(argv: readonly string[], opts: StartOptions = {}): StartedProcess {
    checkArgv(argv);
    const started = Date.now();
    const [file, ...args] = argv as [string, ...string[]];
    const child = execa(file, args, {
      ...baseOptions(opts),
      ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
      detached: opts.group === true,
      stdin: 'ignore',
      stdout: opts.onStdoutLine ? 'pipe' : 'ignore',
      stderr: 'pipe',
      buffer: false,
    });
    // A long-lived program's output is unbounded: keep only tails.
    let stderr = '';
    let stdout = '';
    const flushErr = child.stderr ? followLines(child.stderr, (l) => {
      stderr = tail(stderr + l + '\n');
      opts.onStderrLine?.(l);
    }) : undefined;
    const flushOut = child.stdout && opts.onStdoutLine ? followLines(child.stdout, (l) => {
      stdout = tail(stdout + l + '\n');
      opts.onStdoutLine?.(l);
    }) : undefined;
    const pid = child.pid;
    if (pid === undefined) {
      void child.catch(() => undefined);
      throw new ForgeError('TOOL_MISSING', `${file} did not start`, { command: argv });
    }
    const group = opts.group === true;
    const kill = (signal: NodeJS.Signals = 'SIGKILL'): void => {
      try {
        process.kill(group ? -pid : pid, signal);
      } catch {
        // Already gone.
      }
    };
    const forget = killOnExit(() => kill('SIGKILL'));
    const exited = (async (): Promise<ProcessExit> => {
      const outcome = (await child) as ExecaOutcome & { signal?: string | undefined };
      forget();
      flushErr?.();
      flushOut?.();
      const r: ProcessExit = {
        ...outcomeToResult(argv, { ...outcome, stdout, stderr }, started),
        ...(outcome.signal ? { signal: outcome.signal } : {}),
      };
      this.#record(r);
      return r;
    })();
    return { argv, pid, exited, kill, stderrTail: () => stderr };
  }
}

export type Responder = (argv: readonly string[], opts: RunOptions) => Partial<Pick<RunResult, 'stdout' | 'stderr' | 'exitCode'>> | undefined;

/**
 * Records every command instead of running it: `--dry-run` and unit tests.
 * With `probe`, read-only commands are passed to a real runner so the dry run
 * can see the machine's state; `respond` lets tests script outputs.
 */
export class RecordingRunner implements Runner {
  readonly #history: RunRecord[] = [];
  readonly calls: (readonly string[])[] = [];
  readonly #probe: Runner | undefined;
  readonly #respond: Responder | undefined;

  constructor(opts: { probe?: Runner; respond?: Responder } = {}) {
    this.#probe = opts.probe;
    this.#respond = opts.respond;
  }

  get history(): readonly RunRecord[] {
    return this.#history;
  }

  /** Mutating commands only, in order: what a dry run prints. */
  get planned(): (readonly string[])[] {
    return this.#history.filter((r) => r.skipped).map((r) => r.argv);
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    checkArgv(argv);
    this.calls.push(argv);
    if (opts.readOnly && this.#probe) return this.#probe.run(argv, opts);
    const scripted = this.#respond?.(argv, opts) ?? {};
    const result: RunResult = {
      argv,
      exitCode: scripted.exitCode ?? 0,
      stdout: scripted.stdout ?? '',
      stderr: scripted.stderr ?? '',
      durationMs: 0,
      timedOut: false,
      skipped: !opts.readOnly,
    };
    this.#history.push(toRecord(result));
    if (!(opts.okExitCodes ?? [0]).includes(result.exitCode)) throw new ToolError(result);
    return result;
  }

  spawn(argv: readonly string[]): StreamingProcess {
    throw new ForgeError('USAGE', `dry run cannot stream through ${argv.join(' ')}`, { command: argv });
  }

  start(argv: readonly string[]): StartedProcess {
    throw new ForgeError('USAGE', `dry run cannot start ${argv.join(' ')}`, { command: argv });
  }
}

/** `printf`-free rendering of argv for logs and dry runs: quotes only what needs it. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
