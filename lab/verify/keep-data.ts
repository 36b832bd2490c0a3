// keep_data from the node's side: a file of random bytes the node writes into a
// kept filesystem (from the bootstrap, between runs) and its sha256 as the node
// reads it back after the next run. Nothing the lab could fake: the bytes come
// from the node's /dev/urandom and the digest from its sha256sum.
import { ForgeError } from '../../agent/core/errors.js';
import type { Plan } from '../../agent/plan/types.js';
import { runTask, type OrchestratorEnv } from '../orchestrator.js';

/** The first keep_data filesystem of a plan, if any (device + mount). */
export function keptFs(plan: Plan): { device: string; mount: string } | undefined {
  return plan.fss.find((f) => f.keepData && f.type !== 'swap' && f.mount.startsWith('/'));
}

/** Writes (when `write`) a file into the kept filesystem from the bootstrap and returns its sha256 as the node computes it. */
export async function keepDataProbe(env: OrchestratorEnv, mac: string, device: string, write: boolean): Promise<string> {
  const run = async (argv: string[]): Promise<string> => {
    const r = await runTask(env, mac, argv, 120_000);
    if (r.exitCode !== 0) throw new ForgeError('TOOL_FAILED', `${argv.join(' ')} on the node: exit ${r.exitCode}: ${r.stderrTail}`, { command: argv });
    return r.stdout;
  };
  await run(['mkdir', '-p', '/mnt/kept']);
  await run(['mount', device, '/mnt/kept']);
  try {
    if (write) await run(['dd', 'if=/dev/urandom', 'of=/mnt/kept/survivor.bin', 'bs=1M', 'count=4', 'conv=fsync', 'status=none']);
    return (await run(['sha256sum', '/mnt/kept/survivor.bin'])).split(/\s+/)[0] ?? '';
  } finally {
    await run(['umount', '/mnt/kept']);
  }
}
