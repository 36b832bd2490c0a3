// Polls for a device node (and, for partitions, its size as the kernel sees it).
// Without udevd the node appears on devtmpfs some time after the re-read, and an
// old node of the same name may still show the previous table's size: both are
// the classic "partition not there yet" race, so we wait for the right size too.
import { readFile, realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Ctx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';

export interface WaitNodeOptions {
  /** Expected size in bytes, checked through /sys/class/block/<name>/size. */
  sizeBytes?: number;
  timeoutMs?: number;
  intervalMs?: number;
  /** Called every `nudgeEveryMs` while waiting (e.g. re-read the table again). */
  nudge?: () => Promise<void>;
  nudgeEveryMs?: number;
}

export interface NodeState {
  exists: boolean;
  isBlock: boolean;
  sizeBytes?: number;
}

export async function nodeState(path: string): Promise<NodeState> {
  try {
    const st = await stat(path);
    if (!st.isBlockDevice()) return { exists: true, isBlock: false };
    const name = basename(await realpath(path));
    try {
      const sectors = Number((await readFile(`/sys/class/block/${name}/size`, 'utf8')).trim());
      return { exists: true, isBlock: true, sizeBytes: sectors * 512 };
    } catch {
      return { exists: true, isBlock: true };
    }
  } catch {
    return { exists: false, isBlock: false };
  }
}

export async function waitForNode(ctx: Ctx, path: string, o: WaitNodeOptions = {}): Promise<void> {
  // A dry run created nothing, so there is nothing to wait for.
  if (ctx.dryRun) return;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const intervalMs = o.intervalMs ?? 100;
  const started = ctx.clock.now();
  let lastNudge = started;
  let last: NodeState = { exists: false, isBlock: false };
  for (;;) {
    last = await nodeState(path);
    const sizeOk = o.sizeBytes === undefined || last.sizeBytes === o.sizeBytes;
    if (last.isBlock && sizeOk) {
      ctx.log.debug('node.ready', { path, waitedMs: ctx.clock.now() - started });
      return;
    }
    const now = ctx.clock.now();
    if (now - started >= timeoutMs) break;
    if (o.nudge && now - lastNudge >= (o.nudgeEveryMs ?? 2_000)) {
      lastNudge = now;
      await o.nudge().catch((e: unknown) => ctx.log.debug('node.nudge.failed', { path, error: String(e) }));
    }
    await ctx.clock.sleep(intervalMs, ctx.signal);
  }
  throw new ForgeError('DEVICE_NOT_READY', `${path} did not appear${o.sizeBytes === undefined ? '' : ` with ${o.sizeBytes} bytes`} within ${timeoutMs} ms`, {
    details: { path, timeoutMs, expectedBytes: o.sizeBytes, ...last },
  });
}
