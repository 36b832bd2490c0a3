// md5/sha256/sha512 of the image, each in its own worker thread, reading the
// write blocks from shared memory (slot-pool.ts). On the main thread the hashes
// cost more than everything else together (md5 ≈ 0.7 GB/s, sha256 ≈ 1.7 GB/s
// with SHA-NI, one after the other); in workers they run beside the socket, the
// decompressor and the writes, and each other. Ranges are hashed in the order
// they are submitted: a worker takes its messages in order.
import { Worker } from 'node:worker_threads';
import { ForgeError } from '../core/errors.js';
import type { Algo } from './hashers.js';

// Plain CommonJS evaluated in the worker: nothing to bundle or resolve at run time.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hash = createHash(workerData.algo);
const mem = new Uint8Array(workerData.sab);
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') {
      hash.update(mem.subarray(m.off, m.off + m.len));
      parentPort.postMessage({ seq: m.seq });
    } else if (m.op === 'digest') {
      parentPort.postMessage({ seq: m.seq, hex: hash.digest('hex') });
    }
  } catch (e) {
    parentPort.postMessage({ seq: m.seq, error: String(e && e.message || e) });
  }
});
`;

interface Reply {
  seq: number;
  hex?: string;
  error?: string;
}

class HashWorker {
  readonly #w: Worker;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #seq = 0;
  #failed: Error | undefined;

  constructor(readonly algo: Algo, sab: SharedArrayBuffer) {
    this.#w = new Worker(WORKER_SOURCE, { eval: true, workerData: { algo, sab } });
    this.#w.on('message', (r: Reply) => {
      const p = this.#pending.get(r.seq);
      this.#pending.delete(r.seq);
      if (r.error) p?.reject(new ForgeError('TOOL_FAILED', `${algo} worker: ${r.error}`));
      else p?.resolve(r);
    });
    const fail = (e: Error): void => {
      this.#failed ??= new ForgeError('TOOL_FAILED', `${algo} worker stopped: ${e.message}`, { cause: e });
      for (const p of this.#pending.values()) p.reject(this.#failed);
      this.#pending.clear();
    };
    this.#w.on('error', fail);
    // Gone (terminated or crashed): whatever is asked later must fail, not wait forever.
    this.#w.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  send(msg: Record<string, unknown>): Promise<Reply> {
    if (this.#failed) return Promise.reject(this.#failed);
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#w.postMessage({ ...msg, seq });
    });
  }

  terminate(): Promise<number> {
    return this.#w.terminate();
  }
}

export class WorkerHashers {
  readonly #workers: HashWorker[];

  constructor(algos: readonly Algo[], sab: SharedArrayBuffer) {
    this.#workers = [...new Set(algos)].map((a) => new HashWorker(a, sab));
  }

  /** Hashes bytes [off, off+len) of the shared memory; resolves when every algorithm has them. */
  async update(off: number, len: number): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.send({ op: 'update', off, len })));
  }

  async digest(): Promise<Partial<Record<Algo, string>>> {
    const replies = await Promise.all(this.#workers.map(async (w) => [w.algo, (await w.send({ op: 'digest' })).hex] as const));
    return Object.fromEntries(replies);
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
