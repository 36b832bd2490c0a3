// One pass from the source to the target: socket or file -> (container hash) ->
// decompressor -> md5/sha256(/sha512) + byte count -> positioned writes. Nothing is
// buffered beyond a few blocks, whatever the image size; nothing is read back.
import type { FileHandle } from 'node:fs/promises';
import { Duplex, Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Ctx } from '../core/context.js';
import { ForgeError, isForgeError } from '../core/errors.js';
import { redactUrl, redactUrlsIn } from '../core/redact.js';
import type { StreamingProcess } from '../core/runner.js';
import type { ImageContainer } from '../plan/types.js';
import { spawnDecompressor } from '../tools/decompress.js';
import { DeviceWriter, HEAD_BYTES, writeAll } from './device-writer.js';
import { type Algo, Hashers } from './hashers.js';
import { Progress } from './progress.js';
import { newSourceState, openSource, RestartRequired, type SourceState } from './source.js';
import type { Digests, FetchOptions, ResolvedImage } from './types.js';

export interface StreamOptions {
  fetch: FetchOptions;
  /** Whole-stream restarts allowed when a server ignores Range. */
  maxRestarts: number;
  progressEveryMs: number;
  /** Bytes per write and writes in flight. */
  blockBytes: number;
  maxInFlight: number;
}

export const DEFAULT_STREAM: Omit<StreamOptions, 'fetch'> = {
  maxRestarts: 3,
  progressEveryMs: 2_000,
  blockBytes: 4 << 20,
  maxInFlight: 4,
};

export interface StreamTarget {
  /** Open handle on the device or file; undefined to hash only. */
  fh: FileHandle | undefined;
  /** O_DIRECT handle on the same device for the bulk of the writes (openDirect); absent: all through fh. */
  direct?: FileHandle | undefined;
  /** Name for messages (device path). */
  name: string;
  /** Bytes the target can hold (a larger image fails before it overruns). */
  capacity: number | undefined;
  /** Hold the first MiB back until the image verified, wipe it on failure. */
  holdHead: boolean;
}

export interface StreamResult {
  bytes: number;
  /** The digests computed over the written bytes (rawAlgos): the expected ones, else sha256 for the record. */
  md5?: string;
  sha256?: string;
  sha512?: string;
  wireBytes: number;
  resumes: number;
  restarts: number;
  durationMs: number;
}

interface Decompressor {
  stream: Transform | Duplex;
  proc?: StreamingProcess;
}

function decompressor(ctx: Ctx, container: ImageContainer): Decompressor | undefined {
  if (container === 'raw') return undefined;
  // Large output chunks: fewer hash calls and iovecs per MiB.
  if (container === 'gzip') return { stream: createGunzip({ chunkSize: 256 << 10 }) };
  const proc = spawnDecompressor(ctx, container);
  return { stream: Duplex.from({ writable: proc.stdin, readable: proc.stdout }), proc };
}

const ALGOS: readonly Algo[] = ['md5', 'sha256', 'sha512'];

function wantedAlgos(d: Digests, always: readonly Algo[]): Algo[] {
  return [...always, ...ALGOS.filter((a) => d[a] !== undefined)];
}

/**
 * The digests computed over the written (decompressed) bytes: the SHA-2 ones the
 * metadata gives, md5 only when it is all there is, and sha256 for the record when
 * nothing is expected of the raw bytes (a container digest or none checks them). md5
 * next to a SHA-2 digest proves nothing more and is the slowest hash we have: one core
 * does ~0.75 GB/s, less than a 10 GbE link brings, and it cannot be split.
 */
export function rawAlgos(d: Digests): Algo[] {
  const sha = (['sha256', 'sha512'] as const).filter((a) => d[a] !== undefined);
  if (sha.length) return sha;
  return d.md5 !== undefined ? ['md5'] : ['sha256'];
}

export async function streamImage(ctx: Ctx, img: ResolvedImage, target: StreamTarget, o: StreamOptions): Promise<StreamResult> {
  const started = ctx.clock.now();
  const shown = redactUrl(img.uri);
  const what = `image ${shown} -> ${target.name}`;
  const headBytes = target.holdHead ? Math.min(HEAD_BYTES, target.capacity ?? HEAD_BYTES) : 0;
  const expected = img.expected;
  // A crash or power loss mid-copy must not leave the old first MiB next to new data.
  if (target.fh && headBytes) await wipeHead(target.fh, headBytes);
  let restarts = 0;
  let rangeUnsupported = false;
  let resumes = 0;
  for (;;) {
    const state = newSourceState(rangeUnsupported);
    const progress = new Progress(ctx, { uri: img.uri, device: target.name }, o.progressEveryMs, expected.raw.size);
    try {
      const r = await onePass(ctx, img, target, o, state, headBytes, progress, what);
      resumes += state.resumes;
      if (target.fh && headBytes) {
        // Data first, then the head: the head must never be on disk without the rest.
        await target.fh.sync();
        await writeAll(target.fh, [r.head], 0, what);
        await target.fh.sync();
      } else if (target.fh) {
        await target.fh.sync();
      }
      return {
        bytes: r.bytes,
        ...r.digests,
        wireBytes: state.offset,
        resumes,
        restarts,
        durationMs: ctx.clock.now() - started,
      };
    } catch (e) {
      resumes += state.resumes;
      if (e instanceof RestartRequired && restarts < o.maxRestarts) {
        restarts++;
        rangeUnsupported ||= state.rangeUnsupported;
        ctx.log.warn('image.restart', { uri: img.uri, device: target.name, offset: e.offset, attempt: restarts, reason: e.message });
        continue;
      }
      if (target.fh && headBytes) await wipeHead(target.fh, headBytes).catch(() => undefined);
      if (e instanceof RestartRequired) {
        throw new ForgeError('IMAGE_FETCH_FAILED', `${what}: ${e.message}; gave up after ${restarts} restarts`, {
          details: { uri: shown, offset: e.offset, restarts },
        });
      }
      throw e;
    }
  }
}

interface PassResult {
  bytes: number;
  digests: Partial<Record<Algo, string>>;
  head: Buffer;
}

async function onePass(
  ctx: Ctx,
  img: ResolvedImage,
  target: StreamTarget,
  o: StreamOptions,
  state: SourceState,
  headBytes: number,
  progress: Progress,
  what: string,
): Promise<PassResult> {
  const expected = img.expected;
  const shown = redactUrl(img.uri);
  const wireAlgos = wantedAlgos(expected.container, []);
  const wire = wireAlgos.length ? new Hashers(wireAlgos) : undefined;
  const source = openSource(ctx, {
    uri: img.uri,
    what,
    fetch: o.fetch,
    state,
    ...(expected.container.size === undefined ? {} : { expectedSize: expected.container.size }),
  });
  const hashedSource = wire ? tap(source, (c) => wire.update(c)) : source;
  const rawLimit = expected.raw.size;
  // Computed and checked: the same list.
  const rawList = rawAlgos(expected.raw);
  const writer = new DeviceWriter(target.fh, {
    what,
    headBytes,
    blockBytes: o.blockBytes,
    maxInFlight: o.maxInFlight,
    algos: rawList,
    direct: target.direct,
    // A file target (tests, qcow2 staging) has no disk that could go away.
    ...(target.name.startsWith('/dev/') ? { device: target.name } : {}),
    onData: (chunk) => {
      // writer.bytes counts the chunks accepted before this one (onData runs first).
      const after = writer.bytes + chunk.length;
      if (rawLimit !== undefined && after > rawLimit) {
        throw new ForgeError('IMAGE_SIZE_MISMATCH', `${what}: image is larger than its stated size ${rawLimit} (already ${after} bytes at offset ${state.offset} of the download)`, {
          details: { uri: shown, expected: rawLimit, actual: after, offset: state.offset, stream: 'raw' },
        });
      }
      if (target.capacity !== undefined && after > target.capacity) {
        throw new ForgeError('IMAGE_WRITE_FAILED', `${what}: image does not fit: ${after} bytes > ${target.capacity} bytes of ${target.name} (download offset ${state.offset})`, {
          details: { uri: shown, capacity: target.capacity, offset: writer.bytes, device: target.name },
        });
      }
      progress.tick(after, state.offset, state.total);
    },
  });
  const dec = decompressor(ctx, img.container);
  const input = Readable.from(hashedSource, { objectMode: false, highWaterMark: 4 << 20 });
  let digests: Partial<Record<Algo, string>>;
  try {
    if (dec) await pipeline(input, dec.stream, writer);
    else await pipeline(input, writer);
    if (dec?.proc) await dec.proc.result;
    digests = await writer.digests();
  } catch (e) {
    dec?.proc?.kill();
    if (e instanceof RestartRequired || isForgeError(e)) throw e;
    // A decompressor that died explains an EPIPE better than the EPIPE does.
    const procErr = dec?.proc ? await dec.proc.result.then(() => undefined, (x: unknown) => x) : undefined;
    throw classify(e, procErr, what, shown, state.offset, writer.bytes);
  } finally {
    await writer.close();
  }
  progress.tick(writer.bytes, state.offset, state.total, true);
  if (rawLimit !== undefined && writer.bytes !== rawLimit) {
    throw new ForgeError('IMAGE_SIZE_MISMATCH', `${what}: image is ${writer.bytes} bytes, expected ${rawLimit} (download ended at offset ${state.offset})`, {
      details: { uri: shown, expected: rawLimit, actual: writer.bytes, offset: state.offset, stream: 'raw' },
    });
  }
  compare(expected.raw, rawList, digests, 'image', what, shown, state.offset);
  if (wire) compare(expected.container, wireAlgos, wire.digest(), 'compressed file', what, shown, state.offset);
  return { bytes: writer.bytes, digests, head: writer.head };
}

/** Checks `algos` (each must be expected and computed: a digest not computed is a mismatch, never a pass). */
function compare(exp: Digests, algos: readonly Algo[], got: Partial<Record<Algo, string>>, label: string, what: string, uri: string, offset: number): void {
  for (const a of algos) {
    const want = exp[a];
    if (want === undefined) continue;
    if (got[a] !== want.toLowerCase()) {
      throw new ForgeError('IMAGE_CHECKSUM_MISMATCH', `${what}: ${label} ${a} is ${got[a]}, expected ${want} (after ${offset} bytes downloaded); target wiped`, {
        details: { uri, algorithm: a, expected: want, actual: got[a], offset, stream: label === 'image' ? 'raw' : 'container' },
      });
    }
  }
}

async function* tap(src: AsyncIterable<Buffer>, f: (c: Buffer) => void): AsyncGenerator<Buffer> {
  for await (const c of src) {
    f(c);
    yield c;
  }
}

function classify(e: unknown, procErr: unknown, what: string, uri: string, wireOffset: number, rawOffset: number): ForgeError {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = redactUrlsIn(e instanceof Error ? e.message : String(e));
  const details = { uri, offset: wireOffset, rawOffset };
  if (procErr && isForgeError(procErr)) {
    return new ForgeError('IMAGE_CORRUPT', `${what}: decompression failed at download offset ${wireOffset}: ${procErr.message}`, { details, cause: procErr });
  }
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new ForgeError('IMAGE_CORRUPT', `${what}: gzip data is corrupt or truncated at download offset ${wireOffset} (${msg})`, { details, cause: e });
  }
  if (typeof code === 'string' && /^E(IO|NOSPC|ROFS|BADF|ACCES|PERM|NXIO|INVAL)$/.test(code)) {
    return new ForgeError('IMAGE_WRITE_FAILED', `${what}: write failed at image offset ${rawOffset}: ${msg}`, { details, cause: e });
  }
  return new ForgeError('IMAGE_FETCH_FAILED', `${what}: ${msg} at offset ${wireOffset}`, { details, cause: e });
}

/** Zero the first bytes so nothing recognises (mounts, boots) a half-written target. */
export async function wipeHead(fh: FileHandle, bytes: number): Promise<void> {
  await writeAll(fh, [Buffer.alloc(bytes)], 0);
  await fh.sync();
}
