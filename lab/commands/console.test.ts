import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { attachConsole, DETACH_KEY } from './console.js';

/** A stand-in for QEMU's console socket: records what it receives and echoes lines like a guest shell. */
async function fakeConsole(): Promise<{ path: string; received: () => string; server: Server; clients: Socket[]; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'forge-console-test-'));
  const path = join(dir, 'console.sock');
  let got = '';
  const clients: Socket[] = [];
  const server = createServer((s) => {
    clients.push(s);
    s.write('login: ');
    s.on('data', (b: Buffer) => {
      got += b.toString('latin1');
      for (const line of b.toString('latin1').split('\n').slice(0, -1)) s.write(`echo: ${line}\r\n`);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, received: () => got, server, clients, dir };
}

const sink = (): { stream: PassThrough; text: () => string } => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (b: Buffer) => (text += b.toString('latin1')));
  return { stream, text: () => text };
};

const until = async (what: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('attachConsole', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const setup = async () => {
    const f = await fakeConsole();
    cleanups.push(() => {
      f.server.close();
      rmSync(f.dir, { recursive: true, force: true });
    });
    return f;
  };

  it('pipes both ways and detaches on Ctrl-], sending what came before it and nothing after', async () => {
    const f = await setup();
    const input = new PassThrough();
    const output = sink();
    const attached = attachConsole({ socketPath: f.path, input, output: output.stream, signal: new AbortController().signal });
    await until(() => output.text().includes('login: '));
    input.write('uname\n');
    await until(() => output.text().includes('echo: uname'));
    input.write(Buffer.concat([Buffer.from('ls\n'), Buffer.from([DETACH_KEY]), Buffer.from('rm -rf /\n')]));
    expect(await attached).toBe('detached');
    await until(() => f.received().includes('ls\n'));
    expect(f.received()).toBe('uname\nls\n');
    expect(output.text()).toMatch(/^login: echo: uname\r\n/);
    expect(output.text()).not.toContain('rm -rf');
  });

  it('detaches a moment after the input ends (piped use), printing what the guest still sent', async () => {
    const f = await setup();
    const input = new PassThrough();
    const output = sink();
    const attached = attachConsole({ socketPath: f.path, input, output: output.stream, signal: new AbortController().signal, lingerMs: 200 });
    input.end('hostname\n');
    expect(await attached).toBe('input-ended');
    expect(output.text()).toContain('echo: hostname');
  });

  it('ends when the VM closes the console, and on abort', async () => {
    const f = await setup();
    const closed = attachConsole({ socketPath: f.path, input: new PassThrough(), output: sink().stream, signal: new AbortController().signal });
    await until(() => f.clients.length === 1);
    f.clients[0]?.destroy();
    expect(await closed).toBe('closed');
    const ac = new AbortController();
    const aborted = attachConsole({ socketPath: f.path, input: new PassThrough(), output: sink().stream, signal: ac.signal });
    await until(() => f.clients.length === 2);
    ac.abort();
    expect(await aborted).toBe('aborted');
  });

  it('names the socket when nothing listens there', async () => {
    await expect(attachConsole({ socketPath: '/nonexistent/console.sock', input: new PassThrough(), output: sink().stream, signal: new AbortController().signal }))
      .rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringMatching(/\/nonexistent\/console\.sock.*is the VM running/) });
  });
});
