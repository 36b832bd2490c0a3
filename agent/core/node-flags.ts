// How every agent process runs node (the ramdisk's `provision` launcher, the fleet's
// simulated nodes, `npm run bench`'s own run).
//
// --no-incremental-marking: each socket or pipe read hands us a fresh 64 KiB
// ArrayBuffer, and at image rates V8 starts incremental marking tens of times a
// second for that external memory; the agent's heap is a few MB, so one atomic
// mark is a millisecond or two. Measured with `npm run bench` (1 GiB, 2 cores, three
// runs): our CPU per GiB 2.95 -> 2.2-2.4 s (raw) and 5.2 -> 3.3-3.6 s (zstd).
export const AGENT_NODE_FLAGS: readonly string[] = ['--no-incremental-marking'];

/** node, the agent's flags, then the bundled agent: what follows are the agent's own arguments. */
export function agentNodeArgv(node: string, bundle: string): string[] {
  return [node, ...AGENT_NODE_FLAGS, bundle];
}
