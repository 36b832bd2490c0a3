// A small QMP (QEMU Machine Protocol) client over the VM's unix socket: just the
// commands the lab needs for power control. One command in flight at a time, so
// replies are matched in order; asynchronous events are kept for callers to inspect.
import { connect, type Socket } from 'node:net';
import { ForgeError } from '../../agent/core/errors.js';

export interface QmpEvent {
  event: string;
  data?: unknown;
  timestamp?: unknown;
}

export interface QmpStatus {
  running: boolean;
  status: string;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class QmpClient {
  readonly events: QmpEvent[] = [];
  #socket: Socket;
  #buf = '';
  #queue: Pending[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.on('close', () => this.#fail(new ForgeError('LAB_FAILED', 'QMP socket closed')));
    socket.on('error', (e) => this.#fail(new ForgeError('LAB_FAILED', `QMP socket error: ${e.message}`, { cause: e })));
  }

  /** Connects (retrying while QEMU creates the socket), reads the greeting and negotiates capabilities. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new QmpClient(socket);
        // The greeting is the first line; treat it as the reply to a pseudo-command.
        await new Promise<unknown>((resolve, reject) => client.#queue.push({ resolve, reject }));
        await client.execute('qmp_capabilities');
        return client;
      } catch (e) {
        if (Date.now() > deadline) {
          throw new ForgeError('LAB_TIMEOUT', `QMP socket ${path} not ready after ${timeoutMs} ms`, { cause: e });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  #onData(chunk: string): void {
    this.#buf += chunk;
    let nl: number;
    while ((nl = this.#buf.indexOf('\n')) >= 0) {
      const line = this.#buf.slice(0, nl).trim();
      this.#buf = this.#buf.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof msg['event'] === 'string') {
        this.events.push(msg as unknown as QmpEvent);
        continue;
      }
      const p = this.#queue.shift();
      if (!p) continue;
      if ('error' in msg) {
        const err = msg['error'] as { class?: string; desc?: string };
        p.reject(new ForgeError('LAB_FAILED', `QMP error ${err.class ?? ''}: ${err.desc ?? line}`));
      } else {
        p.resolve(msg['return'] ?? msg['QMP']);
      }
    }
  }

  #fail(e: Error): void {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) p.reject(e);
  }

  /** Sends one command; commands are serialised so replies pair with requests. */
  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const run = async (): Promise<unknown> => {
      if (this.#closed) throw new ForgeError('LAB_FAILED', `QMP ${command}: socket closed`);
      const reply = new Promise<unknown>((resolve, reject) => this.#queue.push({ resolve, reject }));
      this.#socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
      return reply;
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async queryStatus(): Promise<QmpStatus> {
    return (await this.execute('query-status')) as QmpStatus;
  }
  async powerdown(): Promise<void> {
    await this.execute('system_powerdown');
  }
  async reset(): Promise<void> {
    await this.execute('system_reset');
  }
  /** Asks QEMU to exit; the socket closing right after is expected. */
  async quit(): Promise<void> {
    try {
      await this.execute('quit');
    } catch (e) {
      if (!this.#closed) throw e;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }
}
