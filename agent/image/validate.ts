// Everything about the images is checked before a single byte is written: URI
// scheme, container, format, target, and where each checksum comes from. An image
// nobody can verify is refused unless the operator opted out (--allow-unverified).
import type { Ctx } from '../core/context.js';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { ImageContainer, ImageFormat, PlannedImage } from '../plan/types.js';
import { imageField } from './field.js';
import { digestsFromRecord, loadImageMetadata } from './metadata.js';
import {
  DEFAULT_FETCH,
  type DigestKey,
  type DigestOrigins,
  type Digests,
  type DigestSource,
  type ExpectedChecksums,
  type FetchOptions,
  type ResolvedImage,
} from './types.js';

export const SCHEMES = ['http:', 'https:', 'file:'] as const;
export const CONTAINERS: readonly ImageContainer[] = ['raw', 'gzip', 'xz', 'zstd'];
export const FORMATS: readonly ImageFormat[] = ['ext2', 'ext3', 'ext4', 'xfs', 'raw', 'qcow2'];

export interface ValidateOptions {
  allowUnverified: boolean;
  /** Look for `<image>.meta.json` / Fuel yaml beside each image (default true). */
  readMetadata?: boolean;
  fetch?: FetchOptions;
}

/** Checks that need no I/O: one error per problem, each naming its field. */
export function checkImageShapes(images: readonly PlannedImage[]): ForgeError[] {
  const errors: ForgeError[] = [];
  const targets = new Map<string, string>();
  for (const img of images) {
    const f = (k: string): string => imageField(img.mount, k);
    const shown = redactUrl(img.uri);
    let url: URL | undefined;
    try {
      url = new URL(img.uri);
    } catch {
      errors.push(new ForgeError('IMAGE_URI_INVALID', `${f('uri')}: not a URI: ${JSON.stringify(shown)}`, { field: f('uri') }));
    }
    if (url && !(SCHEMES as readonly string[]).includes(url.protocol)) {
      errors.push(new ForgeError('IMAGE_URI_INVALID', `${f('uri')}: scheme ${url.protocol.replace(/:$/, '')} is not supported (http, https, file): ${shown}`, { field: f('uri') }));
    } else if (url && url.protocol !== 'file:' && !url.hostname) {
      errors.push(new ForgeError('IMAGE_URI_INVALID', `${f('uri')}: no host in ${shown}`, { field: f('uri') }));
    } else if (url?.protocol === 'file:' && (url.pathname === '/' || url.pathname === '')) {
      errors.push(new ForgeError('IMAGE_URI_INVALID', `${f('uri')}: no path in ${shown}`, { field: f('uri') }));
    }
    if (!CONTAINERS.includes(img.container)) {
      errors.push(new ForgeError('CONFIG_INVALID', `${f('container')}: ${JSON.stringify(img.container)} is not one of ${CONTAINERS.join(', ')}`, { field: f('container') }));
    }
    if (!FORMATS.includes(img.format)) {
      errors.push(new ForgeError('CONFIG_INVALID', `${f('format')}: ${JSON.stringify(img.format)} is not one of ${FORMATS.join(', ')}`, { field: f('format') }));
    }
    if (!img.targetDevice || !img.targetDevice.startsWith('/dev/')) {
      errors.push(new ForgeError('PLAN_INVALID', `${imageField(img.mount)}: no target device for mount ${img.mount} (got ${JSON.stringify(img.targetDevice)})`, { field: imageField(img.mount) }));
    } else {
      const other = targets.get(img.targetDevice);
      if (other !== undefined) {
        errors.push(new ForgeError('PLAN_INVALID', `${imageField(img.mount)}: target ${img.targetDevice} is also the target of ${JSON.stringify(other)}`, { field: imageField(img.mount) }));
      }
      targets.set(img.targetDevice, img.mount);
    }
    try {
      digestsFromRecord({ md5: img.md5, sha256: img.sha256, sha512: img.sha512, size: img.size }, 'gzip', imageField(img.mount));
      if (img.file) digestsFromRecord({ ...img.file }, 'gzip', imageField(img.mount));
    } catch (e) {
      errors.push(e as ForgeError);
    }
  }
  return errors;
}

function hasAny(d: Digests): boolean {
  return d.md5 !== undefined || d.sha256 !== undefined || d.sha512 !== undefined || d.size !== undefined;
}

const KEYS: readonly DigestKey[] = ['md5', 'sha256', 'sha512', 'size'];

/** Every value of `d` attributed to `from`. */
function originsOf(d: Digests, from: DigestSource): DigestOrigins {
  const o: DigestOrigins = {};
  for (const k of KEYS) if (d[k] !== undefined) o[k] = [from];
  return o;
}

/**
 * Two sources agreeing is fine (the value then lists both origins); disagreeing is
 * bad input, caught before writing.
 */
function merge(a: Digests, b: Digests, where: string, field: string, origins: DigestOrigins, from: DigestSource): Digests {
  const out: Digests = { ...a };
  for (const k of KEYS) {
    const bv = b[k];
    if (bv === undefined) continue;
    const av = a[k];
    if (av !== undefined && String(av).toLowerCase() !== String(bv).toLowerCase()) {
      throw new ForgeError('CONFIG_INVALID', `${field}.${k}: ${av} disagrees with ${where} (${bv})`, { field: `${field}.${k}`, details: { data: av, metadata: bv, source: where } });
    }
    (out as Record<string, unknown>)[k] = bv;
    origins[k] = [...(av === undefined ? [] : (origins[k] ?? [])), from];
  }
  return out;
}

/**
 * Validate the plan's images and resolve their checksums. Reads metadata beside
 * each image (read-only network/file access), writes nothing.
 */
export async function validateImages(ctx: Ctx, images: readonly PlannedImage[], o: ValidateOptions): Promise<ResolvedImage[]> {
  const shapeErrors = checkImageShapes(images);
  if (shapeErrors.length === 1) throw shapeErrors[0];
  if (shapeErrors.length) throw new ForgeErrors(shapeErrors.some((e) => e.code === 'IMAGE_URI_INVALID') ? 'IMAGE_URI_INVALID' : 'CONFIG_INVALID', shapeErrors);
  const fetch = o.fetch ?? DEFAULT_FETCH;
  const out: ResolvedImage[] = [];
  for (const img of images) {
    const field = imageField(img.mount);
    const fromData = digestsFromRecord({ md5: img.md5, sha256: img.sha256, sha512: img.sha512, size: img.size }, 'gzip', field);
    const fromDataFile = img.file ? digestsFromRecord({ ...img.file }, 'gzip', field).raw : {};
    const data: DigestSource = { source: 'provision-data' };
    const expected: ExpectedChecksums = {
      raw: fromData.raw,
      container: fromDataFile,
      sources: hasAny(fromData.raw) || hasAny(fromDataFile) ? ['image_data'] : [],
      origins: { raw: originsOf(fromData.raw, data), container: originsOf(fromDataFile, data) },
    };
    const origins = expected.origins as NonNullable<ExpectedChecksums['origins']>;
    if (o.readMetadata ?? true) {
      let meta;
      try {
        meta = await loadImageMetadata(ctx, img.uri, img.container, fetch);
      } catch (e) {
        // Checksums from the data are enough to go on; without them this is fatal.
        if (hasAny(expected.raw) || (o.allowUnverified && (e as ForgeError).code !== 'CONFIG_INVALID')) {
          ctx.log.warn('image.metadata_unreadable', { uri: img.uri, reason: (e as Error).message });
        } else throw e;
      }
      if (meta) {
        if (meta.containerType && meta.containerType !== img.container) {
          throw new ForgeError('CONFIG_INVALID', `${field}.container: ${img.container} disagrees with ${meta.source} (${meta.containerType})`, { field: `${field}.container` });
        }
        if (meta.format && meta.format !== img.format) {
          throw new ForgeError('CONFIG_INVALID', `${field}.format: ${img.format} disagrees with ${meta.source} (${meta.format})`, { field: `${field}.format` });
        }
        const file: DigestSource = { source: 'metadata-file', url: meta.source };
        expected.raw = merge(expected.raw, meta.raw, meta.source, field, origins.raw, file);
        expected.container = merge(expected.container, meta.container, meta.source, field, origins.container, file);
        if (hasAny(meta.raw) || hasAny(meta.container)) expected.sources.push(meta.source);
      }
    }
    const verified = hasAny(expected.raw) || hasAny(expected.container);
    const hasDigest = [expected.raw, expected.container].some((d) => d.md5 ?? d.sha256 ?? d.sha512);
    if (!hasDigest) {
      if (!o.allowUnverified) {
        throw new ForgeError(
          'IMAGE_UNVERIFIED',
          `${field}: no checksum for ${redactUrl(img.uri)} (neither md5/sha256 in image_data nor a .meta.json/.yaml beside the image); refusing to write it. --allow-unverified overrides`,
          { field, details: { uri: redactUrl(img.uri) } },
        );
      }
      ctx.log.warn('image.UNVERIFIED', {
        uri: img.uri,
        device: img.targetDevice,
        message: `!!! writing ${img.uri} to ${img.targetDevice} WITHOUT a checksum (--allow-unverified)${verified ? '; only its size is checked' : ''} !!!`,
      });
    }
    out.push({
      uri: img.uri,
      mount: img.mount,
      targetDevice: img.targetDevice,
      format: img.format,
      container: img.container,
      expected,
      verified: hasDigest,
      field,
    });
  }
  return out;
}
