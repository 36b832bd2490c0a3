// Shapes shared by the image step: what validation resolves, what a write reports.
import { ForgeError } from '../core/errors.js';
import type { ImageContainer, ImageFormat } from '../plan/types.js';

/** Digests and length of one byte stream; every field optional (only what a source gave). */
export interface Digests {
  md5?: string;
  sha256?: string;
  sha512?: string;
  size?: number;
}

export type DigestKey = keyof Digests;

/**
 * Where one expected value came from: the provisioning data (`image_data`, trusted
 * as much as the master that sent it), or a metadata file served beside the image
 * (`url`, credentials redacted) — which guards against corruption in transit, not
 * against the server that serves both.
 */
export type DigestSource = { source: 'provision-data' } | { source: 'metadata-file'; url: string };

/** Per digest/size: every source that gave it (two entries when both gave the same value). */
export type DigestOrigins = Partial<Record<DigestKey, DigestSource[]>>;

/**
 * What an image must hash to. `raw` is the decompressed data written to the device
 * (Fuel's raw_md5/raw_size); `container` is the file as served (compressed).
 */
export interface ExpectedChecksums {
  raw: Digests;
  container: Digests;
  /** Where they came from: 'image_data', a metadata URI, or both. */
  sources: string[];
  /** Where each value of `raw` and `container` came from (set by validateImages). */
  origins?: { raw: DigestOrigins; container: DigestOrigins };
}

/** One checked value in a report, with where it came from. */
export interface ExpectedValue {
  value: string | number;
  sources: DigestSource[];
}

/** The report's view of ExpectedChecksums: per stream, per digest/size, value and sources. */
export interface ReportedExpectations {
  raw: Partial<Record<DigestKey, ExpectedValue>>;
  container: Partial<Record<DigestKey, ExpectedValue>>;
  /**
   * Where the digests (md5/sha*, not sizes) came from, summed up: 'metadata-file' means
   * the only digest was served by the same server as the image.
   */
  digestSource: 'provision-data' | 'metadata-file' | 'both' | 'none';
}

/** An image that passed validation: nothing about it is guessed any more. */
export interface ResolvedImage {
  uri: string;
  mount: string;
  targetDevice: string;
  format: ImageFormat;
  container: ImageContainer;
  expected: ExpectedChecksums;
  /** True when at least one digest or size will be checked. */
  verified: boolean;
  /** JSON path of the image entry, for error fields. */
  field: string;
}

export interface ImageReport {
  uri: string;
  mount: string;
  device: string;
  /** Decompressed bytes written. */
  bytes: number;
  /** Digests of the written bytes: the expected ones (the strongest given), else sha256 (stream.ts rawAlgos). */
  md5?: string;
  sha256?: string;
  sha512?: string;
  verified: boolean;
  durationMs: number;
  /** Filesystem UUID read back after writing (absent for whole-disk images). */
  uuid?: string;
  /** Bytes per second, decompressed. */
  rate: number;
  resumes: number;
  restarts: number;
  grown: boolean;
  /** What was checked and where each expected value came from (always set by writeImages). */
  expected?: ReportedExpectations;
}

export interface FetchOptions {
  /** A read that brings nothing for this long fails the transfer (IMAGE_STALLED). */
  stallTimeoutMs: number;
  /**
   * The whole response head must arrive within this long of sending the request
   * (connect included), however steadily it trickles; 0 turns it off (IMAGE_STALLED).
   */
  headerTimeoutMs: number;
  /**
   * Minimum body rate: fewer than minBytesPerSec * rateWindowMs/1000 bytes over the last
   * rateWindowMs of waiting on the network fails the connection (IMAGE_STALLED, retried
   * with Range like a stall). 0 turns it off. See readWithStall for why a rate, not a deadline.
   */
  minBytesPerSec: number;
  rateWindowMs: number;
  /** Attempts to connect (connect errors, 5xx) before giving up. */
  connectAttempts: number;
  /** Mid-stream reconnects (Range resume or restart) before giving up. */
  resumeAttempts: number;
  /** First backoff delay; doubles per attempt up to maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_FETCH: FetchOptions = {
  stallTimeoutMs: 60_000,
  headerTimeoutMs: 30_000,
  // 64 KiB/s = 0.5 Mbit/s, half of what each of 1000 nodes gets from one shared 1 GbE
  // master: only a broken or hostile server is this slow for a whole minute.
  minBytesPerSec: 64 << 10,
  rateWindowMs: 60_000,
  connectAttempts: 6,
  resumeAttempts: 10,
  backoffMs: 1_000,
  maxBackoffMs: 30_000,
};

/** `--stall-timeout SECONDS` → FetchOptions.stallTimeoutMs (a positive whole number of seconds). */
export function parseStallTimeout(text: string | undefined): Partial<FetchOptions> {
  if (text === undefined) return {};
  if (!/^[1-9]\d{0,5}$/.test(text)) {
    throw new ForgeError('USAGE', `--stall-timeout must be a whole number of seconds (1-999999), got ${JSON.stringify(text)}`, { field: 'stall-timeout' });
  }
  return { stallTimeoutMs: Number(text) * 1000 };
}
