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

/**
 * What an image must hash to. `raw` is the decompressed data written to the device
 * (Fuel's raw_md5/raw_size); `container` is the file as served (compressed).
 */
export interface ExpectedChecksums {
  raw: Digests;
  container: Digests;
  /** Where they came from: 'image_data', a metadata URI, or both. */
  sources: string[];
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
  md5: string;
  sha256: string;
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
}

export interface FetchOptions {
  /** A read that brings nothing for this long fails the transfer (IMAGE_STALLED). */
  stallTimeoutMs: number;
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
