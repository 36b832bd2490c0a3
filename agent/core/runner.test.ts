import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecaRunner, RecordingRunner, ToolError, formatArgv } from './runner.js';
import { VERSION } from '../version.js';

describe('ExecaRunner', () => {
  it('hands stderr lines to onStderrLine as they come, the last partial line included, and still buffers stderr', async () => {
    const lines: string[] = [];
    const r = await new ExecaRunner().run(['sh', '-c', 'printf "a\\nb\\n" >&2; printf "c" >&2'], { onStderrLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'b', 'c']);
    expect(r.stderr).toBe('a\nb\nc');
  });

  it('runs argv without a shell and records the run', async () => {
    const r = new ExecaRunner();
    const res = await r.run(['printf', '%s|', 'a b', '$(echo no)', ';ls']);
    expect(res.stdout).toBe('a b|$(echo no)|;ls|');
    expect(r.history).toHaveLength(1);
    expect(r.history[0]).toMatchObject({ argv: ['printf', '%s|', 'a b', '$(echo no)', ';ls'], exitCode: 0 });
    expect(r.history[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('interactive: the program gets this process\'s stdin/stdout (nothing captured), and the run is still recorded with its exit code', async () => {
    const r = new ExecaRunner();
    const res = await r.run(['sh', '-c', 'echo shown-not-captured; exit 3'], { interactive: true, okExitCodes: [3] });
    expect(res).toMatchObject({ exitCode: 3, stdout: '' });
    expect(r.history.at(-1)).toMatchObject({ exitCode: 3 });
  });

  it('pins the C locale', async () => {
    const res = await new ExecaRunner().run(['sh', '-c', 'echo $LC_ALL']);
    expect(res.stdout.trim()).toBe('C');
  });

  it('raises a typed error naming the command, exit code and stderr tail', async () => {
    const r = new ExecaRunner();
    const err = await r.run(['sh', '-c', 'echo boom >&2; exit 3']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    const te = err as ToolError;
    expect(te.code).toBe('TOOL_FAILED');
    expect(te.command).toEqual(['sh', '-c', 'echo boom >&2; exit 3']);
    expect(te.details.exitCode).toBe(3);
    expect(te.message).toContain('boom');
    expect(r.history[0]!.stderrTail).toContain('boom');
  });

  it('accepts listed exit codes', async () => {
    const res = await new ExecaRunner().run(['sh', '-c', 'exit 4'], { okExitCodes: [0, 4] });
    expect(res.exitCode).toBe(4);
  });

  it('times out long commands with TOOL_TIMEOUT', async () => {
    const err = (await new ExecaRunner().run(['sleep', '5'], { timeoutMs: 100 }).catch((e: unknown) => e)) as ToolError;
    expect(err.code).toBe('TOOL_TIMEOUT');
    expect(err.result.timedOut).toBe(true);
  });

  it('reports a missing program as TOOL_MISSING', async () => {
    const err = (await new ExecaRunner().run(['no-such-tool-xyz']).catch((e: unknown) => e)) as ToolError;
    expect(err.code).toBe('TOOL_MISSING');
  });

  it('streams stdin to stdout through a program', async () => {
    const p = new ExecaRunner().spawn(['tr', 'a-z', 'A-Z']);
    const chunks: Buffer[] = [];
    p.stdout.on('data', (c: Buffer) => chunks.push(c));
    p.stdin.end('hello');
    await p.result;
    expect(Buffer.concat(chunks).toString()).toBe('HELLO');
  });
});

describe('ExecaRunner.start (long-lived programs)', () => {
  // A killed orphan may linger as a zombie where nothing reaps it (a container's init).
  const alive = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  it('follows output lines and records the run, with its stderr tail, when it ends', async () => {
    const r = new ExecaRunner();
    const out: string[] = [];
    const err: string[] = [];
    const p = r.start(['sh', '-c', 'echo up; echo warn >&2; exit 3'], { onStdoutLine: (l) => out.push(l), onStderrLine: (l) => err.push(l) });
    expect(p.pid).toBeGreaterThan(0);
    const end = await p.exited;
    expect(out).toEqual(['up']);
    expect(err).toEqual(['warn']);
    expect(end).toMatchObject({ exitCode: 3, stderr: 'warn\n', stdout: 'up\n' });
    expect(p.stderrTail()).toBe('warn\n');
    expect(r.history).toHaveLength(1);
    expect(r.history[0]).toMatchObject({ argv: ['sh', '-c', 'echo up; echo warn >&2; exit 3'], exitCode: 3, stderrTail: 'warn\n' });
  });

  it('kills its whole process group and names the signal', async () => {
    const r = new ExecaRunner();
    const lines: string[] = [];
    const p = r.start(['sh', '-c', 'sleep 60 & echo $!; wait'], { group: true, onStdoutLine: (l) => lines.push(l) });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    const grandchild = Number(lines[0]);
    p.kill();
    expect((await p.exited).signal).toBe('SIGKILL');
    await vi.waitFor(() => expect(alive(grandchild)).toBe(false));
  });

  it('kills a program still running when the process exits', async () => {
    // A separate node process starts a long sleep in its own group and exits without stopping it.
    const dir = mkdtempSync(join(tmpdir(), 'forge-runner-test-'));
    const script = join(dir, 'leaves-a-child.mts');
    writeFileSync(script, [
      `import { ExecaRunner } from ${JSON.stringify(new URL('./runner.ts', import.meta.url).pathname)};`,
      `const p = new ExecaRunner().start(['sleep', '60'], { group: true });`,
      'console.log(p.pid);',
      'setTimeout(() => process.exit(0), 100);',
    ].join('\n'));
    const res = await new ExecaRunner().run(['npx', 'tsx', script], { timeoutMs: 60_000 }).finally(() => rmSync(dir, { recursive: true, force: true }));
    const pid = Number(res.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    await vi.waitFor(() => expect(alive(pid)).toBe(false));
  }, 60_000);

  it('throws TOOL_MISSING for a program that cannot start; a dry run refuses to start anything', () => {
    expect(() => new ExecaRunner().start(['no-such-tool-xyz'])).toThrow(expect.objectContaining({ code: 'TOOL_MISSING' }));
    expect(() => new RecordingRunner().start(['long-running-daemon'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('RecordingRunner', () => {
  it('records mutating commands without running them and probes read-only ones', async () => {
    const r = new RecordingRunner({ probe: new ExecaRunner() });
    await r.run(['rm', '-rf', '/definitely/not/here']);
    const probe = await r.run(['echo', 'probed'], { readOnly: true });
    expect(probe.stdout).toBe('probed\n');
    expect(r.planned).toEqual([['rm', '-rf', '/definitely/not/here']]);
  });

  it('returns scripted outputs', async () => {
    const r = new RecordingRunner({ respond: (argv) => (argv[0] === 'blkid' ? { stdout: 'UUID=x' } : undefined) });
    expect((await r.run(['blkid'])).stdout).toBe('UUID=x');
  });
});

describe('formatArgv', () => {
  it('quotes only what a shell would split', () => {
    expect(formatArgv(['sgdisk', '-n', '1:2048:+24M', "it's here"])).toBe(`sgdisk -n 1:2048:+24M 'it'\\''s here'`);
  });
});

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
