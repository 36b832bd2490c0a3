// ks_meta.image_data → images: each image lands on the device of the filesystem
// mounted at its key. The URI scheme is checked here, before anything is written.
import { displayValue } from '../core/display.js';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { formatPath } from '../schema/json-path.js';
import type { ImageData, ProvisionData } from '../schema/provision-data.js';
import type { ImageDigests, PlannedFs, PlannedImage } from './types.js';

export const IMAGE_URI_SCHEMES = ['http:', 'https:', 'file:'] as const;

/**
 * image_data's digests, split into the decompressed image and the file as served.
 * Plain keys mean the decompressed image (Fuel) unless `raw_*` keys are present
 * (build-image's meta shape), where they mean the file — the same rule the image
 * step applies to metadata files, so both shapes can be pasted into image_data.
 */
export function splitDigests(img: ImageData): { raw: ImageDigests; container: ImageDigests } {
  const pick = (prefix: '' | 'raw_' | 'container_'): ImageDigests => {
    const d: ImageDigests = {};
    const size = img[`${prefix}size`];
    if (size !== undefined) d.size = size;
    for (const k of ['md5', 'sha256', 'sha512'] as const) {
      const v = img[`${prefix}${k}`];
      if (v) d[k] = v.toLowerCase();
    }
    return d;
  };
  const plain = pick('');
  const raw = pick('raw_');
  const cont = pick('container_');
  return Object.keys(raw).length ? { raw, container: { ...plain, ...cont } } : { raw: plain, container: cont };
}

export function planImages(data: ProvisionData, fss: readonly PlannedFs[]): PlannedImage[] {
  const images: PlannedImage[] = [];
  const problems: ForgeError[] = [];
  for (const [mount, img] of Object.entries(data.ks_meta.image_data ?? {})) {
    const field = formatPath(['ks_meta', 'image_data', mount]);
    let url: URL | undefined;
    try {
      url = new URL(img.uri);
    } catch {
      url = undefined;
    }
    const scheme = url?.protocol ?? '';
    if (!(IMAGE_URI_SCHEMES as readonly string[]).includes(scheme)) {
      problems.push(new ForgeError('IMAGE_URI_INVALID', `${field}.uri: ${displayValue(img.uri)} is not an http, https or file URI`, { field: `${field}.uri` }));
      continue;
    }
    const host = url?.hostname ?? '';
    if (scheme === 'file:' && host !== '' && host !== 'localhost') {
      // file://otherhost/path names a file on another machine; we could only read our own.
      problems.push(new ForgeError('IMAGE_URI_INVALID', `${field}.uri: a file URI names a host (${host}); use file:///path or http(s)`, { field: `${field}.uri` }));
      continue;
    }
    const fs = fss.find((f) => f.mount === mount);
    if (!fs) {
      problems.push(new ForgeError('PLAN_INVALID', `${field}: no volume is mounted at ${mount}`, { field }));
      continue;
    }
    fs.fromImage = true;
    const image: PlannedImage = {
      uri: img.uri,
      mount,
      targetDevice: fs.device,
      format: img.format,
      container: img.container,
    };
    const { raw, container } = splitDigests(img);
    Object.assign(image, raw);
    if (Object.keys(container).length) image.file = container;
    if (fs.keepData) image.keepData = true;
    images.push(image);
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new ForgeErrors(problems[0]!.code, problems);
  return images;
}
