// The node's side of the HTTP exchange with the master (protocol.ts). Every
// call has its own timeout; retries back off with jitter so many nodes booting
// together do not hammer one master.
import type { Clock } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { parseJsonAs } from '../core/parse-json.js';
import { discoveryReplySchema, taskSchema, type DiscoveryReport, type Task, type TaskResult } from './protocol.js';

export interface MasterClientOptions {
  master: string;
  clock: Clock;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Random source in [0,1): injectable so tests are deterministic. */
  random?: () => number;
}

export class MasterClient {
  readonly #o: Required<Omit<MasterClientOptions, 'random'>> & { random: () => number };

  constructor(o: MasterClientOptions) {
    this.#o = { timeoutMs: 15_000, random: Math.random, ...o };
  }

  async #request(method: string, path: string, body?: unknown): Promise<Response> {
    const signal = AbortSignal.any([this.#o.signal, AbortSignal.timeout(this.#o.timeoutMs)]);
    const res = await fetch(`${this.#o.master}${path}`, {
      method,
      signal,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    if (res.status >= 400) {
      const text = await res.text().catch(() => '');
      throw new ForgeError('TOOL_FAILED', `${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`, { details: { status: res.status } });
    }
    return res;
  }

  /** Backoff with full jitter: base * 2^attempt, capped, times a random factor. */
  backoffMs(attempt: number, baseMs = 1000, capMs = 30_000): number {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 10));
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#o.random());
  }

  /** Retries until it succeeds or the signal aborts. */
  async retry<T>(what: string, fn: () => Promise<T>, onError: (e: unknown, attempt: number) => void): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (this.#o.signal.aborted) throw e;
        onError(e, attempt);
        await this.#o.clock.sleep(this.backoffMs(attempt), this.#o.signal);
      }
    }
  }

  async discover(report: DiscoveryReport): Promise<{ id: number }> {
    const res = await this.#request('POST', '/api/nodes/agent', report);
    return parseJsonAs(discoveryReplySchema, await res.text(), { source: 'POST /api/nodes/agent', code: 'INPUT_UNREADABLE' });
  }

  /** undefined when the master has nothing for this node (204). */
  async nextTask(mac: string): Promise<Task | undefined> {
    const path = `/api/nodes/agent/tasks?mac=${encodeURIComponent(mac)}`;
    const res = await this.#request('GET', path);
    if (res.status === 204) return undefined;
    const text = await res.text();
    return text.trim() ? parseJsonAs(taskSchema, text, { source: `GET ${path}`, code: 'INPUT_UNREADABLE' }) : undefined;
  }

  async postLog(taskId: string, lines: string[]): Promise<void> {
    await this.#request('POST', `/api/nodes/agent/tasks/${encodeURIComponent(taskId)}/log`, { lines });
  }

  async postResult(taskId: string, result: TaskResult): Promise<void> {
    await this.#request('POST', `/api/nodes/agent/tasks/${encodeURIComponent(taskId)}/result`, result);
  }

  async fetchText(url: string): Promise<string> {
    const signal = AbortSignal.any([this.#o.signal, AbortSignal.timeout(this.#o.timeoutMs * 4)]);
    const res = await fetch(url, { signal });
    if (!res.ok) throw new ForgeError('INPUT_UNREADABLE', `GET ${url}: HTTP ${res.status}`, { field: 'forge.provision_url' });
    return res.text();
  }
}
