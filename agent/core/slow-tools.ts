// A log line for every external command that takes a while, so an operator (and the
// lab) sees where a run's minutes went without a debugger: a step's duration alone
// does not say whether grub-probe, mkfs or a udev settle was the slow part.
import type { Logger } from './log.js';
import type { RunRecord } from './runner.js';

/** Commands at least this long are logged (most tools finish in milliseconds on real hardware). */
export const SLOW_TOOL_MS = 2000;

/** An `ExecaRunner` `onRecord` hook: `tool.slow` with the argv, exit code and duration. */
export function logSlowTool(log: Logger, thresholdMs = SLOW_TOOL_MS): (r: RunRecord) => void {
  return (r) => {
    if (r.skipped || r.durationMs < thresholdMs) return;
    log.info('tool.slow', { argv: r.argv, exitCode: r.exitCode, durationMs: r.durationMs, ...(r.timedOut ? { timedOut: true } : {}) });
  };
}
