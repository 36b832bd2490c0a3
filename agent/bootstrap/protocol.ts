// The exchange between a node running the bootstrap ramdisk and the master
// (mock Nailgun in the lab; Astute's role in Fuel). The node always calls out —
// it never listens — so it works behind QEMU user networking and NAT.
//
// Kernel command line of the ramdisk:
//   forge.master=http://10.0.2.2:8000      base URL of the master (required for discovery/tasks)
//   forge.provision_url=URL                 field debugging: fetch provision.json from URL, run `provision`, report
//   forge.poll_ms=2000                      task poll interval (optional)
//   forge.debug=1                           keep a shell on the console after a failure (optional)
//
// Flow:
//   1. Node boots, brings up DHCP on every NIC, then
//      POST {master}/api/nodes/agent            body: DiscoveryReport   → 200 { id: number }
//   2. Node polls for work:
//      GET  {master}/api/nodes/agent/tasks?mac=<first mac>   → 204 (nothing) | 200 Task
//   3. Node executes the task and reports:
//      POST {master}/api/nodes/agent/tasks/<task.id>/log     body: { lines: string[] } (stderr lines, batched, throttled)
//      POST {master}/api/nodes/agent/tasks/<task.id>/result  body: TaskResult
//   Poll errors are retried with backoff and jitter (many nodes share one master).
import { z } from 'zod';

export interface DiscoveryReport {
  macs: string[];
  /** `provision inventory` output. */
  inventory: unknown;
  /** `provision --version`. */
  agentVersion: string;
  /** Kernel command line, for debugging. */
  cmdline: string;
}

/**
 * What the master hands a node to do (GET …/tasks), parsed by the node: the shape
 * here, the meaning (absolute path, non-empty argv) in tasks.ts, which answers a
 * bad task with exit 2.
 */
export const taskSchema = z.discriminatedUnion('kind', [
  z.object({
    id: z.string(),
    kind: z.literal('upload'),
    /** Absolute path on the node, e.g. /tmp/provision.json. */
    path: z.string(),
    contentBase64: z.string(),
    mode: z.number().optional(),
  }),
  z.object({
    id: z.string(),
    kind: z.literal('run'),
    /** argv, never a shell string. */
    argv: z.array(z.string()),
    timeoutMs: z.number().optional(),
  }),
  z.object({
    id: z.string(),
    kind: z.enum(['reboot', 'poweroff']),
  }),
]);

export type Task = z.infer<typeof taskSchema>;

/** The master's answer to a discovery report. */
export const discoveryReplySchema = z.object({ id: z.number() });

export interface TaskResult {
  exitCode: number;
  /** Tail of stdout (e.g. the JSON report of `provision`). */
  stdout: string;
  stderrTail: string;
  durationMs: number;
}

export const KERNEL_PARAM = {
  master: 'forge.master',
  provisionUrl: 'forge.provision_url',
  pollMs: 'forge.poll_ms',
  debug: 'forge.debug',
} as const;
