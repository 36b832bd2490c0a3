// CLI front of the run, shared by `provision` (run), `provision configdrive` and
// `provision bootloader`: options, log sinks, dry-run printout and the report.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { allowUnverifiedOption, defineOptions, dryRunOption, inputOptions, stallTimeoutOption } from './options.js';
import type { CliIO } from '../core/cli-types.js';
import { createCtx } from '../core/context.js';
import { printError } from '../core/format-error.js';
import { createLogger, fileSink, stderrSink } from '../core/log.js';
import { redactDeep } from '../core/redact.js';
import { ExecaRunner, formatArgv, RecordingRunner } from '../core/runner.js';
import { logSlowTool } from '../core/slow-tools.js';
import { parseStallTimeout } from '../image/types.js';
import { renderPlan } from '../plan/render.js';
import { defaultSteps } from '../run/default-steps.js';
import { provisionRun, RunFailed, type ProvisionReport, type RunOptions, type StepName, type Steps } from '../run/provision-run.js';

export const DEFAULT_LOG = '/var/log/fuel-forge/provision.log';

/** The options of `provision [run]`, `configdrive` and `bootloader`. */
export const runOptions = defineOptions({
  ...inputOptions,
  ...dryRunOption,
  log: { type: 'string', arg: 'FILE', default: DEFAULT_LOG, help: 'JSON-lines log of every step (also on stderr)' },
  report: { type: 'string', arg: 'FILE', help: 'save the JSON report here too (it is always printed)' },
  ...allowUnverifiedOption,
  'callback-url': { type: 'string', arg: 'URL', help: 'first-boot call-back the configdrive tells cloud-init to POST to' },
  'configdrive-format': { type: 'string', arg: 'FORMAT', choices: ['vfat', 'iso9660'], help: 'configdrive filesystem (vfat config-2 unless given)' },
  ...stallTimeoutOption,
});

/** The report as printed and saved: URL credentials removed (the run itself used them). */
function writeReport(path: string | undefined, report: ProvisionReport): void {
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
}

export interface RunCommandOptions {
  /** Run only these destructive steps (validate and plan always run). */
  only?: readonly StepName[];
  /** The outside world of the run; tests pass fakes. */
  steps?: Steps;
  /** The command's abort signal (SIGINT/SIGTERM). */
  signal?: AbortSignal;
}

export async function runProvisionCommand(name: string, args: string[], io: CliIO, o: RunCommandOptions = {}): Promise<number> {
  const { only, steps = defaultSteps } = o;
  const v = runOptions.parse(args, name);
  const format: RunOptions['configdriveFormat'] = v['configdrive-format'];
  const fetch = parseStallTimeout(v['stall-timeout']);
  const dryRun = v['dry-run'];
  const log = createLogger([fileSink(v.log), stderrSink]);
  const runner = dryRun ? new RecordingRunner({ probe: new ExecaRunner() }) : new ExecaRunner({ onRecord: logSlowTool(log) });
  const ctx = createCtx({ runner, log, dryRun, ...(o.signal ? { signal: o.signal } : {}) });
  const opts: RunOptions = {
    input: v.input,
    ...(v.inventory === undefined ? {} : { inventory: v.inventory }),
    ...(v['allow-unverified'] ? { allowUnverified: true } : {}),
    ...(v['callback-url'] === undefined ? {} : { callbackUrl: v['callback-url'] }),
    ...(format === undefined ? {} : { configdriveFormat: format }),
    ...(Object.keys(fetch).length ? { fetch } : {}),
    ...(only ? { only } : {}),
  };
  let report: ProvisionReport;
  let failure: unknown;
  try {
    report = await provisionRun(ctx, opts, steps);
  } catch (e) {
    if (!(e instanceof RunFailed)) throw e;
    report = e.report;
    failure = e.cause;
  }
  if (dryRun && runner instanceof RecordingRunner) report.commands = runner.planned.map((a) => [...a]);
  // Output boundary: everything below prints or saves; the in-memory plan keeps its credentials.
  const shown = redactDeep(report);
  if (dryRun && shown.commands) {
    if (shown.plan) io.out(renderPlan(shown.plan));
    io.out(`# ${shown.commands.length} commands a real run would execute:`);
    for (const c of shown.commands) io.out(formatArgv(c));
  } else {
    io.out(JSON.stringify(shown, null, 2));
  }
  writeReport(v.report, shown);
  if (failure !== undefined) return printError(failure, io.err);
  return 0;
}
