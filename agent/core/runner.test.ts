import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
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
