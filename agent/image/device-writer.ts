// The sink of the image pipeline: large positioned writes to the target, several in
// flight so the disk works while the next block is decompressed. The first MiB is
// held back in memory and written only after the whole image checked out, so a
// half-written target never carries a boot sector or superblock (field failure #10).
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ForgeError } from '../core/errors.js';

export interface DeviceWriterOptions {
  /** Bytes at the start held back until commitHead() (0: write everything in order). */
  headBytes: number;
  /** Gather this much before one writev. */
  blockBytes: number;
  maxInFlight: number;
  /** Sees every chunk in order before it is queued (hashing, size checks); may throw to abort. */
  onData(chunk: Buffer): void;
  /** For messages: what is written where (`image … -> /dev/sda3`). */
  what?: string;
}

export const HEAD_BYTES = 1 << 20;

export class DeviceWriter extends Writable {
  readonly #fh: FileHandle | undefined;
  readonly #o: DeviceWriterOptions;
  readonly #head: Buffer;
  #headFill = 0;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Device offset of the first pending byte. */
  #pos: number;
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;
  /** Bytes accepted (decompressed image bytes so far). */
  bytes = 0;

  /** `fh` undefined: hash and count only (verifying a local file before converting it). */
  constructor(fh: FileHandle | undefined, o: DeviceWriterOptions) {
    super({ highWaterMark: 8 << 20, decodeStrings: false });
    this.#fh = fh;
    this.#o = o;
    this.#head = Buffer.alloc(o.headBytes);
    this.#pos = o.headBytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      if (this.#error) throw this.#error;
      this.#o.onData(chunk);
    } catch (e) {
      cb(e as Error);
      return;
    }
    this.bytes += chunk.length;
    let c = chunk;
    if (this.#headFill < this.#head.length) {
      const n = Math.min(this.#head.length - this.#headFill, c.length);
      c.copy(this.#head, this.#headFill, 0, n);
      this.#headFill += n;
      c = c.subarray(n);
    }
    if (c.length && this.#fh) {
      this.#pending.push(c);
      this.#pendingBytes += c.length;
    }
    if (this.#pendingBytes >= this.#o.blockBytes) this.#flush().then(() => cb(), cb);
    else cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.#flush()
      .then(() => this.#drain())
      .then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // Writes still in flight must land before anyone writes the same offsets again.
    void Promise.allSettled([...this.#inFlight]).then(() => cb(err));
  }

  /** Start one write of everything pending; wait only when too many are in flight. */
  async #flush(): Promise<void> {
    if (this.#pendingBytes && this.#fh) {
      const bufs = this.#pending;
      const pos = this.#pos;
      this.#pos += this.#pendingBytes;
      this.#pending = [];
      this.#pendingBytes = 0;
      const p: Promise<void> = writeAll(this.#fh, bufs, pos, this.#o.what).catch((e: unknown) => {
        this.#error ??= e;
      });
      this.#inFlight.add(p);
      void p.then(() => this.#inFlight.delete(p));
    }
    while (this.#inFlight.size >= this.#o.maxInFlight) await Promise.race(this.#inFlight);
    if (this.#error) throw this.#error;
  }

  async #drain(): Promise<void> {
    await Promise.all([...this.#inFlight]);
    if (this.#error) throw this.#error;
  }

  /** The held-back start of the image, to write once verified. */
  get head(): Buffer {
    return this.#head.subarray(0, this.#headFill);
  }
}

/**
 * writev at a position until every byte is written (short writes are legal; a
 * write that makes no progress is IMAGE_WRITE_FAILED, never a download problem).
 */
export async function writeAll(fh: FileHandle, bufs: Buffer[], pos: number, what = 'device write'): Promise<void> {
  let left = bufs;
  let at = pos;
  while (left.length) {
    // IOV_MAX is 1024 on Linux.
    const batch = left.slice(0, 1024);
    const want = batch.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(batch, at);
    at += bytesWritten;
    if (bytesWritten === want) {
      left = left.slice(batch.length);
      continue;
    }
    // Short write: drop what went out and retry the rest.
    let skip = bytesWritten;
    const rest: Buffer[] = [];
    for (const b of left) {
      if (skip >= b.length) skip -= b.length;
      else {
        rest.push(skip ? b.subarray(skip) : b);
        skip = 0;
      }
    }
    if (bytesWritten === 0) {
      throw new ForgeError('IMAGE_WRITE_FAILED', `${what}: short write at device offset ${at}: no progress`, { details: { offset: at } });
    }
    left = rest;
  }
}
