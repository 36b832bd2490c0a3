// Executes one task from the master: upload a file, run an argv (never a shell
// string), or reboot/power off. A running program's stderr (the agent's JSON-lines
// log) is shipped line by line while it runs.
import { mkdir, writeFile, chmod } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { tail, ToolError, type RunResult } from '../core/runner.js';
import type { LogShipper } from './log-shipper.js';
import type { Task, TaskResult } from './protocol.js';

export interface TaskEnv {
  ctx: Ctx;
  shipper: LogShipper;
  /** Writes 'b' (reboot) or 'o' (power off) to the kernel; injectable for tests. */
  sysrq: (key: 'b' | 'o') => Promise<void>;
}

export async function runTask(task: Task, env: TaskEnv): Promise<TaskResult> {
  const started = env.ctx.clock.now();
  const result = (exitCode: number, stdout = '', stderrTail = ''): TaskResult => ({
    exitCode,
    stdout: tail(stdout, 64 * 1024),
    stderrTail: tail(stderrTail, 8 * 1024),
    durationMs: env.ctx.clock.now() - started,
  });
  switch (task.kind) {
    case 'upload': {
      if (!isAbsolute(task.path)) throw new ForgeError('USAGE', `upload path must be absolute: ${task.path}`, { field: 'path' });
      await mkdir(dirname(task.path), { recursive: true });
      await writeFile(task.path, Buffer.from(task.contentBase64, 'base64'));
      if (task.mode !== undefined) await chmod(task.path, task.mode);
      return result(0, `wrote ${task.path}`);
    }
    case 'run': {
      if (!Array.isArray(task.argv) || !task.argv.length || task.argv.some((a) => typeof a !== 'string')) {
        throw new ForgeError('USAGE', 'run task needs a non-empty argv of strings', { field: 'argv' });
      }
      let r: RunResult;
      try {
        // stderr (the agent's JSON-lines log, or any program's messages) goes to the
        // master line by line while the task runs: the orchestrator follows progress live.
        r = await env.ctx.runner.run(task.argv, {
          timeoutMs: task.timeoutMs ?? 2 * 60 * 60_000,
          onStderrLine: (l) => {
            if (l.trim()) env.shipper.push(l);
          },
        });
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        r = e.result;
      }
      return result(r.timedOut ? 124 : r.exitCode, r.stdout, r.stderr);
    }
    case 'reboot':
    case 'poweroff':
      // The result is posted by the caller before the kernel is asked to act.
      return result(0, task.kind);
    default:
      throw new ForgeError('USAGE', `unknown task kind ${(task as { kind?: unknown }).kind as string}`, { field: 'kind' });
  }
}
