// md5 + sha256 (+ sha512) of one byte stream, computed as the bytes pass.
import { createHash, type Hash } from 'node:crypto';

export type Algo = 'md5' | 'sha256' | 'sha512';

export class Hashers {
  readonly #hashes: [Algo, Hash][];
  bytes = 0;

  constructor(algos: readonly Algo[]) {
    this.#hashes = [...new Set(algos)].map((a) => [a, createHash(a)]);
  }

  update(chunk: Buffer): void {
    for (const [, h] of this.#hashes) h.update(chunk);
    this.bytes += chunk.length;
  }

  digest(): Partial<Record<Algo, string>> {
    const out: Partial<Record<Algo, string>> = {};
    for (const [a, h] of this.#hashes) out[a] = h.digest('hex');
    return out;
  }
}

/** Only the digests that were computed: an absent one is left out, never set to undefined or ''. */
export function computedDigests(d: Partial<Record<Algo, string | undefined>>): Partial<Record<Algo, string>> {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v)) as Partial<Record<Algo, string>>;
}
