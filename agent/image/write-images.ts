// The image step: validate every image (and its target) first, then stream each
// onto its device, verify, fsck, grow and read back the UUID. Returns one report
// per image; the first failure stops the step with its ForgeError.
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { Plan } from '../plan/types.js';
import { inspectTarget, openDirect, openTarget, type TargetInfo } from './device.js';
import { finishTarget } from './finish.js';
import { writeQcow2 } from './qcow2.js';
import { computedDigests } from './hashers.js';
import { DEFAULT_STREAM, streamImage, type StreamOptions, type StreamResult } from './stream.js';
import {
  DEFAULT_FETCH,
  type DigestKey,
  type DigestOrigins,
  type Digests,
  type ExpectedValue,
  type FetchOptions,
  type ImageReport,
  type ReportedExpectations,
  type ResolvedImage,
} from './types.js';
import { validateImages } from './validate.js';

export interface WriteImagesOptions {
  allowUnverified?: boolean;
  /** Look for metadata files beside the images (default true). */
  readMetadata?: boolean;
  /** Grow filesystems / move the backup GPT after writing (default true). */
  resize?: boolean;
  fetch?: Partial<FetchOptions>;
  stream?: Partial<Omit<StreamOptions, 'fetch'>>;
  /** Where a qcow2 image is staged for qemu-img (default the OS temp dir). */
  tmpDir?: string;
  /**
   * The plan's images as validateImages already resolved them (the run's plan
   * step): used as they are, no metadata fetched again. Absent: validated here.
   */
  resolved?: readonly ResolvedImage[];
}

/** Validation and target checks only: what a dry run does, and the first half of a real one. */
export async function prepareImages(ctx: Ctx, plan: Plan, o: WriteImagesOptions = {}): Promise<{ image: ResolvedImage; target: TargetInfo }[]> {
  const fetch: FetchOptions = { ...DEFAULT_FETCH, ...o.fetch };
  const images = o.resolved ?? (await validateImages(ctx, plan.images, {
    allowUnverified: o.allowUnverified ?? false,
    readMetadata: o.readMetadata ?? true,
    fetch,
  }));
  const out: { image: ResolvedImage; target: TargetInfo }[] = [];
  for (const image of images) {
    if (plan.images.find((p) => p.mount === image.mount)?.keepData) {
      // Writing an image would destroy exactly the data keep_data promises to keep.
      ctx.log.warn('image.skipped_keep_data', { uri: image.uri, device: image.targetDevice, mount: image.mount });
      continue;
    }
    const target = await inspectTarget(image.targetDevice, image.field);
    const need = image.format === 'qcow2' ? undefined : image.expected.raw.size;
    if (need !== undefined && need > target.size) {
      throw new ForgeError('SIZE_DOES_NOT_FIT', `${image.field}: ${redactUrl(image.uri)} is ${need} bytes, ${image.targetDevice} holds ${target.size}`, {
        field: image.field,
        details: { uri: redactUrl(image.uri), size: need, capacity: target.size },
      });
    }
    out.push({ image, target });
  }
  return out;
}

const KEYS: readonly DigestKey[] = ['md5', 'sha256', 'sha512', 'size'];

function reported(d: Digests, origins: DigestOrigins | undefined): Partial<Record<DigestKey, ExpectedValue>> {
  const out: Partial<Record<DigestKey, ExpectedValue>> = {};
  for (const k of KEYS) {
    const value = d[k];
    if (value !== undefined) out[k] = { value, sources: origins?.[k] ?? [] };
  }
  return out;
}

/** Every checked value with where it came from, and the digests' origin summed up. */
export function reportedExpectations(image: ResolvedImage): ReportedExpectations {
  const e = image.expected;
  const raw = reported(e.raw, e.origins?.raw);
  const container = reported(e.container, e.origins?.container);
  const kinds = new Set<string>();
  for (const side of [raw, container]) {
    for (const k of ['md5', 'sha256', 'sha512'] as const) for (const s of side[k]?.sources ?? []) kinds.add(s.source);
  }
  const digestSource = kinds.size === 2 ? 'both' : kinds.has('provision-data') ? 'provision-data' : kinds.has('metadata-file') ? 'metadata-file' : 'none';
  return { raw, container, digestSource };
}

export async function writeImages(ctx: Ctx, plan: Plan, o: WriteImagesOptions = {}): Promise<ImageReport[]> {
  const prepared = await prepareImages(ctx, plan, o);
  const so: StreamOptions & { tmpDir?: string } = {
    ...DEFAULT_STREAM,
    ...o.stream,
    fetch: { ...DEFAULT_FETCH, ...o.fetch },
    ...(o.tmpDir === undefined ? {} : { tmpDir: o.tmpDir }),
  };
  if (ctx.dryRun) {
    for (const { image, target } of prepared) {
      ctx.log.info('image.dry_run', { uri: image.uri, device: target.device, format: image.format, container: image.container, verified: image.verified, sources: image.expected.sources, expected: reportedExpectations(image) });
    }
    return [];
  }
  const reports: ImageReport[] = [];
  for (const { image, target } of prepared) {
    const started = ctx.clock.now();
    ctx.log.info('image.start', { uri: image.uri, device: target.device, format: image.format, container: image.container, verified: image.verified, capacity: target.size });
    let r: StreamResult;
    if (image.format === 'qcow2') {
      r = await writeQcow2(ctx, image, target.size, so);
    } else {
      const what = `image ${redactUrl(image.uri)} -> ${target.device}`;
      const fh = await openTarget(target.device, what);
      const direct = await openDirect(target.device);
      try {
        r = await streamImage(ctx, image, { fh, direct, name: target.device, capacity: target.size, holdHead: true }, so);
      } finally {
        await direct?.close();
        await fh.close();
      }
    }
    const fin = await finishTarget(ctx, image.format, target.device, { resize: o.resize ?? true });
    const durationMs = ctx.clock.now() - started;
    const report: ImageReport = {
      // The report is output only: the URI as it may be printed.
      uri: redactUrl(image.uri),
      mount: image.mount,
      device: target.device,
      bytes: r.bytes,
      ...computedDigests({ md5: r.md5, sha256: r.sha256, sha512: r.sha512 }),
      verified: image.verified,
      durationMs,
      rate: Math.round(r.bytes / Math.max(0.001, r.durationMs / 1000)),
      resumes: r.resumes,
      restarts: r.restarts,
      grown: fin.grown,
      expected: reportedExpectations(image),
    };
    if (fin.uuid) report.uuid = fin.uuid;
    ctx.log.info('image.written', { ...report });
    reports.push(report);
  }
  return reports;
}
