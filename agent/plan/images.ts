// ks_meta.image_data → images: each image lands on the device of the filesystem
// mounted at its key. The URI scheme is checked here, before anything is written.
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { formatPath } from '../schema/json-path.js';
import type { ProvisionData } from '../schema/provision-data.js';
import type { PlannedFs, PlannedImage } from './types.js';

export const IMAGE_URI_SCHEMES = ['http:', 'https:', 'file:'] as const;

export function planImages(data: ProvisionData, fss: readonly PlannedFs[]): PlannedImage[] {
  const images: PlannedImage[] = [];
  const problems: ForgeError[] = [];
  for (const [mount, img] of Object.entries(data.ks_meta.image_data ?? {})) {
    const field = formatPath(['ks_meta', 'image_data', mount]);
    let scheme = '';
    try {
      scheme = new URL(img.uri).protocol;
    } catch {
      scheme = '';
    }
    if (!(IMAGE_URI_SCHEMES as readonly string[]).includes(scheme)) {
      problems.push(new ForgeError('IMAGE_URI_INVALID', `${field}.uri: "${img.uri}" is not an http, https or file URI`, { field: `${field}.uri` }));
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
    if (img.size !== undefined) image.size = img.size;
    if (img.md5) image.md5 = img.md5.toLowerCase();
    if (img.sha256) image.sha256 = img.sha256.toLowerCase();
    if (img.sha512) image.sha512 = img.sha512.toLowerCase();
    if (fs.keepData) image.keepData = true;
    images.push(image);
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new ForgeErrors(problems[0]!.code, problems);
  return images;
}
