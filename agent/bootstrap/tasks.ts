// Executes one task from the master: upload a file, run an argv (never a shell
// string), or reboot/power off. The running program's log is followed through
// FORGE_LOG_FILE (the agent's JSON-lines log) and shipped while it runs.
import { open, mkdir, writeFile, chmod } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { tail, ToolError, type RunResult } from '../core/runner.js';
import type { LogShipper } from './log-shipper.js';
import type { Task, TaskResult } from './protocol.js';

export interface TaskEnv {
  ctx: Ctx;
  shipper: LogShipper;
  /** Directory for per-task log files. */
  logDir: string;
  /** Writes 'b' (reboot) or 'o' (power off) to the kernel; injectable for tests. */
  sysrq: (key: 'b' | 'o') => Promise<void>;
}

/** Follows a growing file and pushes complete lines; returns a stop function. */
function follow(path: string, onLine: (l: string) => void, ctx: Ctx): () => Promise<void> {
  let offset = 0;
  let partial = '';
  let stopped = false;
  const readMore = async (): Promise<void> => {
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) return;
    try {
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        if (!bytesRead) break;
        offset += bytesRead;
        const text = partial + buf.subarray(0, bytesRead).toString('utf8');
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) if (l) onLine(l);
      }
    } finally {
      await fh.close();
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await readMore();
      await ctx.clock.sleep(500).catch(() => undefined);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await readMore();
    if (partial) onLine(partial);
  };
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
      await mkdir(env.logDir, { recursive: true });
      const logFile = join(env.logDir, `task-${task.id.replace(/[^\w.-]/g, '_')}.log`);
      const stop = follow(logFile, (l) => env.shipper.push(l), env.ctx);
      let r: RunResult;
      try {
        r = await env.ctx.runner.run(task.argv, {
          timeoutMs: task.timeoutMs ?? 2 * 60 * 60_000,
          env: { FORGE_LOG_FILE: logFile },
        });
      } catch (e) {
        if (!(e instanceof ToolError)) throw e;
        r = e.result;
      } finally {
        await stop();
      }
      // Programs that do not write FORGE_LOG_FILE still get their stderr shipped.
      for (const l of r.stderr.split('\n')) if (l.trim()) env.shipper.push(l);
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
