// After the bytes are on disk: check the filesystem, grow it into its partition/LV,
// and read back the UUID fstab will use (the image's, not the planned mkfs one).
import type { Ctx } from '../core/context.js';
import { probeSignature } from '../tools/blkid.js';
import { checkFilesystem } from '../tools/fsck.js';
import { growExt, growXfs } from '../tools/fsresize.js';
import { MountStack } from '../tools/mount.js';
import { moveBackupGpt } from '../tools/sgdisk.js';
import type { ImageFormat } from '../plan/types.js';

export interface FinishResult {
  uuid?: string;
  grown: boolean;
  repaired: boolean;
}

export interface FinishOptions {
  resize: boolean;
}

export async function finishTarget(ctx: Ctx, format: ImageFormat, device: string, o: FinishOptions): Promise<FinishResult> {
  let grown = false;
  let repaired = false;
  switch (format) {
    case 'ext2':
    case 'ext3':
    case 'ext4': {
      // resize2fs insists on a freshly checked filesystem, so the check comes first anyway.
      repaired = (await checkFilesystem(ctx, format, device)).repaired;
      if (o.resize) {
        await growExt(ctx, device);
        grown = true;
      }
      break;
    }
    case 'xfs': {
      await checkFilesystem(ctx, 'xfs', device);
      if (o.resize) {
        await using mounts = new MountStack(ctx);
        const dir = await mounts.tempDir('forge-xfs-grow-');
        // nouuid: the same image may already be mounted elsewhere on this host.
        await mounts.mount(device, dir, { type: 'xfs', options: ['nouuid'] });
        await growXfs(ctx, dir);
        grown = true;
      }
      break;
    }
    case 'qcow2':
    case 'raw': {
      // A whole-disk image smaller than the disk leaves its backup GPT mid-disk (field failure #6).
      const sig = await probeSignature(ctx, device);
      if (sig.PTTYPE === 'gpt' && o.resize) {
        await moveBackupGpt(ctx, device);
        grown = true;
      }
      const res: FinishResult = { grown, repaired };
      if (sig.UUID) res.uuid = sig.UUID;
      else if (sig.PTUUID) res.uuid = sig.PTUUID;
      return res;
    }
  }
  const sig = await probeSignature(ctx, device);
  const res: FinishResult = { grown, repaired };
  if (sig.UUID) res.uuid = sig.UUID;
  return res;
}
