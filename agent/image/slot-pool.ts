// Page-aligned, shared memory for the image pipeline's write blocks. Two reasons
// one buffer serves everything: O_DIRECT writes need memory aligned to the
// device's logical block (a WebAssembly memory is mapped page-aligned, where a
// Buffer's start is wherever malloc put it), and hash workers read the very
// bytes the write reads (a shared memory crosses threads without a copy). The
// block is copied once, from the decompressor's chunk into its slot.
import { ForgeError } from '../core/errors.js';

const WASM_PAGE = 65536;

/** The part of the WebAssembly API used here (the project's type libraries declare none of it). */
interface SharedMemoryCtor {
  new (d: { initial: number; maximum: number; shared: boolean }): { buffer: ArrayBufferLike };
}
const Memory = (globalThis as unknown as { WebAssembly: { Memory: SharedMemoryCtor } }).WebAssembly.Memory;
/** Alignment every slot and region starts on (a page: enough for 512 and 4096-byte sectors). */
export const ALIGN = 4096;

export class SlotPool {
  readonly sab: SharedArrayBuffer;
  readonly slotBytes: number;
  readonly count: number;
  /** Bytes before the first slot (a region the caller uses for itself, e.g. the held-back head). */
  readonly reserved: number;
  readonly #free: number[];
  readonly #waiters: (() => void)[] = [];

  constructor(o: { slotBytes: number; count: number; reservedBytes?: number }) {
    if (o.slotBytes % ALIGN || o.slotBytes <= 0 || o.count < 1) {
      throw new ForgeError('USAGE', `slot pool: slotBytes must be a positive multiple of ${ALIGN}, count ≥ 1 (got ${o.slotBytes}, ${o.count})`);
    }
    this.reserved = Math.ceil((o.reservedBytes ?? 0) / ALIGN) * ALIGN;
    const pages = Math.ceil((this.reserved + o.slotBytes * o.count) / WASM_PAGE);
    this.sab = new Memory({ initial: pages, maximum: pages, shared: true }).buffer as SharedArrayBuffer;
    this.slotBytes = o.slotBytes;
    this.count = o.count;
    this.#free = Array.from({ length: o.count }, (_, i) => i);
  }

  /** Byte offset of slot i in the shared memory. */
  offset(i: number): number {
    return this.reserved + i * this.slotBytes;
  }

  /** A Buffer over slot i (or the first `len` bytes of it). */
  view(i: number, len = this.slotBytes): Buffer {
    return Buffer.from(this.sab, this.offset(i), len);
  }

  /** A Buffer over the reserved region. */
  reservedView(len = this.reserved): Buffer {
    return Buffer.from(this.sab, 0, len);
  }

  /** The next free slot; waits while all are in use (the pipeline's back-pressure). */
  async acquire(): Promise<number> {
    for (;;) {
      const i = this.#free.shift();
      if (i !== undefined) return i;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  release(i: number): void {
    this.#free.push(i);
    this.#waiters.shift()?.();
  }
}
