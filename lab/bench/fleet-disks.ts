// One sparse loop disk per simulated node (agent/testing/loop-disks.ts), its file
// tagged with the owner (fleet-owner.ts) so a killed run's disks can be released.
import { CleanupStack } from '../../agent/core/cleanup.js';
import type { Runner } from '../../agent/core/runner.js';
import { createLoopDisk, LOOP_FILE_PREFIX, type LoopDisk } from '../../agent/testing/loop-disks.js';
import { ownerTag } from './fleet-owner.js';

/** The owner tag in a fleet loop disk's backing file; undefined for anyone else's. */
export const loopFileOwner = (file: string): string | undefined => new RegExp(`${LOOP_FILE_PREFIX}fleet([0-9a-z]+)-`).exec(file)?.[1];

export interface FleetDisks extends AsyncDisposable {
  disks: LoopDisk[];
  dispose(): Promise<void>;
}

export async function createFleetDisks(runner: Runner, count: number, sizeMiB: number, signal?: AbortSignal): Promise<FleetDisks> {
  const stack = new CleanupStack({ code: 'LAB_FAILED' });
  const disks: LoopDisk[] = [];
  try {
    for (let i = 0; i < count; i++) {
      signal?.throwIfAborted();
      const d = await createLoopDisk({ sizeMiB, tag: `fleet${ownerTag()}`, runner });
      stack.defer(`loop disk ${d.device}`, () => d.dispose());
      disks.push(d);
    }
  } catch (e) {
    await stack.unwind(e);
  }
  const dispose = (): Promise<void> => stack.dispose();
  return { disks, dispose, [Symbol.asyncDispose]: dispose };
}
