// The sink of the image pipeline: the decompressed bytes are copied once into
// page-aligned shared blocks (slot-pool.ts); each full block is hashed by the
// hash workers (hash-workers.ts) and written at its position at the same time,
// several blocks in flight so the disk works while the next block fills. With an
// O_DIRECT handle the blocks bypass the page cache (written once, not copied
// into the cache and written back at fsync); the last partial sector goes
// through the buffered handle. The first MiB is held back in memory and written
// only after the whole image checked out, so a half-written target never
// carries a boot sector or superblock (field failure #10).
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ForgeError, isForgeError } from '../core/errors.js';
import { goneUnder } from './device-gone.js';
import type { Algo } from './hashers.js';
import { WorkerHashers } from './hash-workers.js';
import { ALIGN, SlotPool } from './slot-pool.js';

export interface DeviceWriterOptions {
  /** Bytes at the start held back until commitHead() (0: write everything in order). */
  headBytes: number;
  /** Bytes per block (one write, one hash message); a multiple of 4096. */
  blockBytes: number;
  maxInFlight: number;
  /** Sees every chunk in order before it is queued (size checks, progress); may throw to abort. */
  onData(chunk: Buffer): void;
  /** Digests of the bytes, computed in worker threads. */
  algos: readonly Algo[];
  /** For messages: what is written where (`image … -> /dev/sda3`). */
  what?: string;
  /** An O_DIRECT handle on the same target for the aligned part of each block; absent: all through `fh`. */
  direct?: FileHandle | undefined;
  /** The target's device path: a failed write asks sysfs whether the disk under it went away. */
  device?: string;
}

export const HEAD_BYTES = 1 << 20;

export class DeviceWriter extends Writable {
  readonly #fh: FileHandle | undefined;
  #direct: FileHandle | undefined;
  readonly #o: DeviceWriterOptions;
  readonly #pool: SlotPool;
  readonly #hash: WorkerHashers;
  readonly #headLen: number;
  #headFill = 0;
  /** The slot being filled, and how full it is. */
  #slot: number | undefined;
  #fill = 0;
  /** Device offset of the next block. */
  #pos: number;
  readonly #inFlight = new Set<Promise<void>>();
  #error: unknown;
  /** Bytes accepted (decompressed image bytes so far). */
  bytes = 0;

  /** `fh` undefined: hash and count only (verifying a local file before converting it). */
  constructor(fh: FileHandle | undefined, o: DeviceWriterOptions) {
    super({ highWaterMark: 8 << 20, decodeStrings: false });
    if (o.blockBytes % ALIGN) throw new ForgeError('USAGE', `blockBytes must be a multiple of ${ALIGN}, got ${o.blockBytes}`);
    this.#fh = fh;
    this.#direct = fh ? o.direct : undefined;
    this.#o = o;
    this.#headLen = o.headBytes;
    this.#pool = new SlotPool({ slotBytes: o.blockBytes, count: o.maxInFlight + 1, reservedBytes: o.headBytes });
    this.#hash = new WorkerHashers(o.algos, this.#pool.sab);
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
    this.#take(chunk).then(() => cb(), cb);
  }

  async #take(chunk: Buffer): Promise<void> {
    let c = chunk;
    if (this.#headFill < this.#headLen) {
      const n = Math.min(this.#headLen - this.#headFill, c.length);
      c.copy(this.#pool.reservedView(this.#headLen), this.#headFill, 0, n);
      this.#headFill += n;
      c = c.subarray(n);
      // The head is hashed first, once whole: the workers see the bytes in image order.
      if (this.#headFill === this.#headLen) this.#track(this.#hash.update(0, this.#headLen));
    }
    while (c.length) {
      if (this.#slot === undefined) {
        this.#slot = await this.#pool.acquire();
        if (this.#error) throw this.#error;
        this.#fill = 0;
      }
      const n = Math.min(this.#pool.slotBytes - this.#fill, c.length);
      c.copy(this.#pool.view(this.#slot), this.#fill, 0, n);
      this.#fill += n;
      c = c.subarray(n);
      if (this.#fill === this.#pool.slotBytes) this.#submit();
    }
  }

  /** Hash and write the current slot (both at once); the slot is free again when both are done. */
  #submit(): void {
    const slot = this.#slot as number;
    const len = this.#fill;
    const pos = this.#pos;
    this.#slot = undefined;
    this.#pos += len;
    const hashed = this.#hash.update(this.#pool.offset(slot), len);
    const written = this.#fh ? this.#writeBlock(this.#pool.view(slot, len), pos) : Promise.resolve();
    // The slot is released once both are settled, whatever happened — a failed block must not leave #take
    // waiting for a slot forever — and after #error is set, so the next taker sees the failure, not a free slot.
    const both = Promise.allSettled([hashed, written]).then((r) => {
      const bad = r.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (bad) this.#error ??= bad.reason;
      this.#pool.release(slot);
      if (bad) throw bad.reason;
    });
    this.#track(both);
  }

  #track(p: Promise<unknown>): void {
    const q = p.then(
      () => undefined,
      (e: unknown) => {
        this.#error ??= e;
      },
    );
    this.#inFlight.add(q);
    void q.then(() => this.#inFlight.delete(q));
  }

  /** A block's write, its failure named with the device offset (and as DISK_CHANGED when the disk is gone). */
  async #writeBlock(buf: Buffer, pos: number): Promise<void> {
    try {
      await this.#writeAt(buf, pos);
    } catch (e) {
      throw this.#writeError(e, pos, buf.length);
    }
  }

  #writeError(e: unknown, pos: number, len: number): unknown {
    if (isForgeError(e)) return e;
    const what = this.#o.what ?? 'device write';
    const device = this.#o.device;
    const errno = (e as { code?: unknown } | null)?.code;
    const why = typeof errno === 'string' ? errno : e instanceof Error ? e.message : String(e);
    const gone = device ? goneUnder(device) : undefined;
    if (gone) {
      return new ForgeError('DISK_CHANGED', `${what}: the disk went away while the image was written (${gone} is gone; the write at device offset ${pos} failed: ${why})`, {
        details: { device, gone, offset: pos, errno }, cause: e,
      });
    }
    return new ForgeError('IMAGE_WRITE_FAILED', `${what}: write of ${len} bytes at device offset ${pos} failed: ${why}`, {
      details: { ...(device ? { device } : {}), offset: pos, bytes: len, errno }, cause: e,
    });
  }

  /** The aligned part through O_DIRECT (when we have it), the rest — a last partial sector — buffered. */
  async #writeAt(buf: Buffer, pos: number): Promise<void> {
    const fh = this.#fh as FileHandle;
    const direct = this.#direct;
    const aligned = direct && pos % ALIGN === 0 ? buf.length - (buf.length % ALIGN) : 0;
    if (direct && aligned) {
      try {
        await writeAll(direct, [buf.subarray(0, aligned)], pos, this.#o.what);
      } catch (e) {
        // A device or driver that refuses direct I/O (EINVAL): the rest goes through the page cache.
        if ((e as { code?: unknown }).code !== 'EINVAL') throw e;
        this.#direct = undefined;
        await writeAll(fh, [buf], pos, this.#o.what);
        return;
      }
    }
    if (aligned < buf.length) await writeAll(fh, [buf.subarray(aligned)], pos + aligned, this.#o.what);
  }

  override _final(cb: (e?: Error | null) => void): void {
    (async () => {
      // An image shorter than the head: hash what there is.
      if (this.#headFill < this.#headLen && this.#headFill > 0) this.#track(this.#hash.update(0, this.#headFill));
      if (this.#slot !== undefined && this.#fill > 0) this.#submit();
      await this.#drain();
    })().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    // Writes still in flight must land before anyone writes the same offsets again. A
    // finished stream keeps its hash workers for digests(); close() ends them.
    void Promise.allSettled([...this.#inFlight])
      .then(() => (err ? this.#hash.close() : undefined))
      .then(() => cb(err), () => cb(err));
  }

  async #drain(): Promise<void> {
    while (this.#inFlight.size) await Promise.all([...this.#inFlight]);
    if (this.#error) throw this.#error;
  }

  /** The digests of every byte accepted (after the stream finished). */
  async digests(): Promise<Partial<Record<Algo, string>>> {
    await this.#drain();
    return this.#hash.digest();
  }

  /** Stops the hash workers (after digests(), or when the pass failed). */
  close(): Promise<void> {
    return this.#hash.close();
  }

  /** The held-back start of the image, to write once verified (a copy: the shared memory goes with the writer). */
  get head(): Buffer {
    return Buffer.from(this.#pool.reservedView(this.#headFill));
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
