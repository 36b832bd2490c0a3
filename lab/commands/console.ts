// `lab console [--lab PID] <node>`: the node's serial console, interactively. The
// VM serves it on a unix socket (lab/vm/qemu.ts) that also logs to serial.log, so
// attaching changes nothing for the lab. On a terminal stdin goes raw (Ctrl-C
// reaches the guest) and Ctrl-] detaches; otherwise stdin and stdout are piped
// plainly and end of input detaches a moment later (scripts, tests).
import { connect, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ForgeError } from '../../agent/core/errors.js';
import { findKeptNode, listKeptLabs } from '../kept-lab.js';

/** Ctrl-] — telnet's and virsh console's escape. */
export const DETACH_KEY = 0x1d;
export const DETACH_KEY_NAME = 'Ctrl-]';

export interface ConsoleInput {
  on(event: 'data', f: (b: Buffer) => void): unknown;
  on(event: 'end', f: () => void): unknown;
  off(event: 'data', f: (b: Buffer) => void): unknown;
  pause(): unknown;
}

export interface AttachOptions {
  socketPath: string;
  input: ConsoleInput;
  output: Writable;
  signal: AbortSignal;
  /** After the input ends, keep printing the guest's output this long (default 1 s). */
  lingerMs?: number;
}

export type DetachReason = 'detached' | 'closed' | 'input-ended' | 'aborted';

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Pipes input to the console socket and the socket to output until detach, input end, abort or the VM closing it. */
export async function attachConsole(o: AttachOptions): Promise<DetachReason> {
  let sock: Socket;
  try {
    sock = await connectUnix(o.socketPath);
  } catch (e) {
    throw new ForgeError('LAB_FAILED', `cannot attach to the console ${o.socketPath}: ${(e as Error).message} (is the VM running?)`, { cause: e });
  }
  return new Promise<DetachReason>((resolve) => {
    let done = false;
    const finish = (why: DetachReason): void => {
      if (done) return;
      done = true;
      o.input.off('data', onInput);
      o.input.pause();
      o.signal.removeEventListener('abort', onAbort);
      // Flush what was typed before the detach, then hang up (QEMU listens again).
      sock.end(() => {
        sock.destroy();
        resolve(why);
      });
      if (sock.destroyed) resolve(why);
    };
    const onInput = (chunk: Buffer): void => {
      const i = chunk.indexOf(DETACH_KEY);
      if (i < 0) {
        sock.write(chunk);
        return;
      }
      if (i > 0) sock.write(chunk.subarray(0, i));
      finish('detached');
    };
    const onAbort = (): void => finish('aborted');
    sock.on('data', (b: Buffer) => o.output.write(b));
    sock.once('close', () => finish('closed'));
    sock.on('error', () => finish('closed'));
    o.input.on('data', onInput);
    o.input.on('end', () => setTimeout(() => finish('input-ended'), o.lingerMs ?? 1000));
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export async function consoleCommand(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { lab: { type: 'string' } } });
  const name = positionals[0];
  if (!name) throw new ForgeError('USAGE', 'usage: lab console [--lab PID] <node>', { field: 'node' });
  const { node } = findKeptNode(listKeptLabs(), name, values.lab === undefined ? undefined : Number(values.lab));
  const err = (l: string): void => void process.stderr.write(l + '\n');
  const tty = process.stdin.isTTY === true;
  err(`attached to ${name}'s serial console (${node.consoleSocket}); detach: ${DETACH_KEY_NAME}${tty ? '; press Enter for a prompt' : ''}`);
  if (tty) process.stdin.setRawMode(true);
  try {
    const why = await attachConsole({ socketPath: node.consoleSocket, input: process.stdin, output: process.stdout, signal });
    err(`${tty ? '\r\n' : ''}${why === 'closed' ? `console of ${name} closed (the VM stopped)` : `detached from ${name}`}`);
  } finally {
    if (tty) process.stdin.setRawMode(false);
  }
  return 0;
}
