// The target block device: checked before anything is written, then opened
// exclusively (the kernel refuses O_EXCL on a mounted or otherwise held device).
import { constants } from 'node:fs';
import { open, readFile, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ForgeError } from '../core/errors.js';

export interface TargetInfo {
  device: string;
  /** Kernel name after following links (/dev/mapper/vg-lv -> dm-3). */
  kernelName: string;
  size: number;
}

export async function inspectTarget(device: string, field: string): Promise<TargetInfo> {
  let st;
  try {
    st = await stat(device);
  } catch (e) {
    throw new ForgeError('DEVICE_NOT_READY', `${field}: target ${device} does not exist (${(e as Error).message})`, { field, details: { device } });
  }
  if (!st.isBlockDevice()) throw new ForgeError('DEVICE_NOT_READY', `${field}: target ${device} is not a block device`, { field, details: { device } });
  const kernelName = basename(await realpath(device));
  const sectors = Number((await readFile(`/sys/class/block/${kernelName}/size`, 'utf8')).trim());
  // The sysfs size is always in 512-byte units, whatever the logical sector size.
  if (!sectors) throw new ForgeError('DEVICE_NOT_READY', `${field}: target ${device} has no media (size 0)`, { field, details: { device } });
  return { device, kernelName, size: sectors * 512 };
}

export async function openTarget(device: string, what: string): Promise<FileHandle> {
  try {
    return await open(device, constants.O_RDWR | constants.O_EXCL);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new ForgeError(
      code === 'EBUSY' ? 'DEVICE_NOT_READY' : 'IMAGE_WRITE_FAILED',
      `${what}: cannot open ${device} for writing at offset 0: ${code === 'EBUSY' ? 'in use (mounted or held by another holder)' : (e as Error).message}`,
      { details: { device, offset: 0 }, cause: e },
    );
  }
}

/**
 * A second handle on an opened target for O_DIRECT writes (the page cache would
 * hold every byte of the image and write it again at fsync). Opened without
 * O_EXCL: the exclusive claim is the first handle's. Undefined where the device
 * or filesystem refuses direct I/O — the caller then writes through its handle.
 */
export async function openDirect(device: string): Promise<FileHandle | undefined> {
  try {
    return await open(device, constants.O_WRONLY | constants.O_DIRECT);
  } catch {
    return undefined;
  }
}
