// CLI front of the run, shared by `provision` (run), `provision configdrive` and
// `provision bootloader`: options, log sinks, dry-run printout and the report.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIO } from '../commands/types.js';
import { createCtx } from '../core/context.js';
import { exitCodeFor, ForgeError } from '../core/errors.js';
import { formatError } from '../core/format-error.js';
import { createLogger, fileSink, stderrSink } from '../core/log.js';
import { redactDeep } from '../core/redact.js';
import { ExecaRunner, formatArgv, RecordingRunner } from '../core/runner.js';
import { parseStallTimeout } from '../image/types.js';
import { renderPlan } from '../plan/render.js';
import { DEFAULT_INPUT } from '../schema/load.js';
import { defaultSteps } from './default-steps.js';
import { provisionRun, RunFailed, type ProvisionReport, type RunOptions, type StepName, type Steps } from './provision-run.js';

export const DEFAULT_LOG = '/var/log/fuel-forge/provision.log';

export function usageFor(name: string): string {
  return [
    `usage: provision ${name} [--input FILE (default ${DEFAULT_INPUT})] [--inventory FILE] [--dry-run]`,
    `        [--log FILE (default ${DEFAULT_LOG})] [--report FILE] [--allow-unverified]`,
    '        [--callback-url URL] [--configdrive-format vfat|iso9660] [--stall-timeout SECONDS (default 60)]',
  ].join('\n');
}

function parse(args: string[], usage: string) {
  try {
    return parseArgs({
      args,
      options: {
        input: { type: 'string' },
        inventory: { type: 'string' },
        'dry-run': { type: 'boolean' },
        log: { type: 'string' },
        report: { type: 'string' },
        'allow-unverified': { type: 'boolean' },
        'callback-url': { type: 'string' },
        'configdrive-format': { type: 'string' },
        'stall-timeout': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    throw new ForgeError('USAGE', `${e instanceof Error ? e.message : String(e)}\n${usage}`);
  }
}

/** The report as printed and saved: URL credentials removed (the run itself used them). */
function writeReport(path: string | undefined, report: ProvisionReport): void {
  if (!path) return;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(report, null, 2) + '\n');
}

export async function runProvisionCommand(
  name: string,
  args: string[],
  io: CliIO,
  only?: readonly StepName[],
  steps: Steps = defaultSteps,
): Promise<number> {
  const usage = usageFor(name);
  const v = parse(args, usage);
  const rawFormat = v['configdrive-format'];
  if (rawFormat !== undefined && rawFormat !== 'vfat' && rawFormat !== 'iso9660') {
    throw new ForgeError('USAGE', `--configdrive-format must be vfat or iso9660, got ${rawFormat}`, { field: 'configdrive-format' });
  }
  const format: RunOptions['configdriveFormat'] = rawFormat;
  const fetch = parseStallTimeout(v['stall-timeout']);
  const dryRun = v['dry-run'] ?? false;
  const runner = dryRun ? new RecordingRunner({ probe: new ExecaRunner() }) : new ExecaRunner();
  const log = createLogger([fileSink(v.log ?? DEFAULT_LOG), stderrSink]);
  const ctx = createCtx({ runner, log, dryRun });
  const opts: RunOptions = {
    input: v.input ?? DEFAULT_INPUT,
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
  if (failure !== undefined) {
    io.err(formatError(failure).join('\n'));
    return exitCodeFor(failure);
  }
  return 0;
}
