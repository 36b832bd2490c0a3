// Whole-disk qcow2 images: qemu-img needs random access to its input, so a remote or
// compressed qcow2 is streamed (hashed, verified) into a temporary file first; a
// local uncompressed one is hashed in place. Only a verified image is converted.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { qemuImgConvert, qemuImgInfo } from '../tools/qemu-img.js';
import { HEAD_BYTES } from './device-writer.js';
import { openTarget } from './device.js';
import { streamImage, wipeHead, type StreamOptions, type StreamResult } from './stream.js';
import type { ResolvedImage } from './types.js';

export async function writeQcow2(
  ctx: Ctx,
  img: ResolvedImage,
  capacity: number,
  o: StreamOptions & { tmpDir?: string },
): Promise<StreamResult> {
  const shown = redactUrl(img.uri);
  const what = `image ${shown} -> ${img.targetDevice}`;
  const local = img.uri.startsWith('file:') && img.container === 'raw';
  const dir = local ? undefined : await mkdtemp(join(o.tmpDir ?? tmpdir(), 'forge-qcow2-'));
  try {
    let src: string;
    let result: StreamResult;
    if (local) {
      src = fileURLToPath(img.uri);
      result = await streamImage(ctx, img, { fh: undefined, name: src, capacity: undefined, holdHead: false }, o);
    } else {
      src = join(dir as string, 'image.qcow2');
      const fh = await open(src, 'w');
      try {
        result = await streamImage(ctx, img, { fh, name: src, capacity: undefined, holdHead: false }, o);
      } finally {
        await fh.close();
      }
    }
    const info = await qemuImgInfo(ctx, src);
    if (info.format !== 'qcow2') {
      throw new ForgeError('IMAGE_CORRUPT', `${what}: qemu-img sees format ${info.format}, not qcow2`, { details: { uri: shown, format: info.format } });
    }
    if (info.virtualSize > capacity) {
      throw new ForgeError('IMAGE_WRITE_FAILED', `${what}: virtual size ${info.virtualSize} exceeds ${img.targetDevice} (${capacity} bytes)`, {
        details: { uri: shown, virtualSize: info.virtualSize, capacity },
      });
    }
    const fh = await openTarget(img.targetDevice, what);
    try {
      await wipeHead(fh, Math.min(HEAD_BYTES, capacity));
    } finally {
      await fh.close();
    }
    try {
      await qemuImgConvert(ctx, src, img.targetDevice);
    } catch (e) {
      const fh2 = await openTarget(img.targetDevice, what);
      await wipeHead(fh2, Math.min(HEAD_BYTES, capacity)).finally(() => fh2.close());
      throw new ForgeError('IMAGE_WRITE_FAILED', `${what}: qemu-img convert failed: ${(e as Error).message}; target wiped`, { details: { uri: shown }, cause: e });
    }
    return result;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
