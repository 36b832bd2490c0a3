// xz and zstd decompressors as streaming child processes (Node 20 has neither).
// gzip needs no program: node:zlib inflates it in the same process.
import type { Ctx } from '../core/context.js';
import type { StreamingProcess } from '../core/runner.js';

export type ExternalContainer = 'xz' | 'zstd';

export function decompressArgv(container: ExternalContainer): string[] {
  // -c to stdout, -d decompress; zstd -q keeps progress noise off stderr.
  return container === 'xz' ? ['xz', '-dc'] : ['zstd', '-dcq'];
}

/** A decompressor fed on stdin; no overall timeout: the stream's own stall timer guards it. */
export function spawnDecompressor(ctx: Ctx, container: ExternalContainer): StreamingProcess {
  return ctx.runner.spawn(decompressArgv(container), { timeoutMs: 24 * 3_600_000, signal: ctx.signal });
}
