// What a lab run report holds: the data behind reports/<run>.html and
// reports/<run>.json. Filled while a run goes (demo, replay, e2e, matrix shard,
// property failure), written even when the run fails, merged across shards.
import type { Plan } from '../../agent/plan/types.js';
import type { StageRecord } from '../stages.js';
import type { Check } from '../verify/first-boot.js';
import type { HostDiskView } from '../verify/host-disk.js';

export const REPORT_VERSION = 1;

export interface ImageDigests {
  /** Mount point the image is for ('/'). */
  target: string;
  expected: { md5?: string; sha256?: string };
  /** What the agent reported after writing (absent when the run stopped before). */
  found?: { md5?: string; sha256?: string };
}

export interface NodeReport {
  /** Lab node name (node-1, node-11, prop-3, …). */
  name: string;
  /** Scenario or case name; a matrix case is `<scenario>` and its verdict is `ok`. */
  scenario: string;
  method?: 'image' | 'classic';
  /** The plan the agent made (or the lab computed from the node's inventory). */
  plan?: Plan;
  /** Per disk, in plan order, what the host-side check read after power-off. */
  found?: (HostDiskView | undefined)[];
  checks: Check[];
  images: ImageDigests[];
  /** Tail of the node's serial console (a few hundred lines at most). */
  console?: string;
  /** The agent's log lines of the failed step (or the run's last lines). */
  agentLog?: string[];
  /** The error that stopped this node, if any. */
  error?: { code?: string; message: string };
  /** true when every check passed and nothing stopped the node. */
  ok: boolean;
}

export interface RunReport {
  version: typeof REPORT_VERSION;
  /** demo | replay | e2e | matrix | property */
  kind: string;
  title: string;
  startedAt: string;
  /** The exact command that reruns this run (or case). */
  rerun: string;
  /** `i/n` for a matrix shard; absent for a whole run or a merged one. */
  shard?: string;
  /** Every stage of the run; a stage named `<node>: …` belongs to that node on the timeline. */
  stages: StageRecord[];
  nodes: NodeReport[];
}
