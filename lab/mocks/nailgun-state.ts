// Mock Nailgun's durable state — what a real Nailgun keeps in its database — and
// its file form. snapshot() and restore() are pure; the file helpers write
// atomically and name the file in every failure. A restarted mock comes back with
// exactly what was written here and nothing else, like the real service.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { taskSchema, type Task, type TaskResult } from '../../agent/bootstrap/protocol.js';
import { ForgeError } from '../../agent/core/errors.js';
import { describeIssue } from '../../agent/schema/issues.js';
import { formatPath } from '../../agent/schema/json-path.js';
import { PROVISION_METHODS, provisionRpc, type ProvisionMethod, type ProvisionRpc } from './provision-rpc.js';

export const NODE_STATUSES = ['discover', 'provisioning', 'provisioned', 'error', 'ready'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

export interface MockNode {
  id: number;
  macs: string[];
  status: NodeStatus;
  progress: number;
  errorType: string | undefined;
  errorMessage: string | undefined;
  inventory: unknown;
  agentVersion: string | undefined;
  cmdline: string | undefined;
  discoveredAt: number;
  /** How often the node reported discovery (a re-boot into bootstrap reports again). */
  discoveries: number;
  /** The provision serializer's output for this node (set by the orchestrator or a test). */
  provision: unknown;
  /** Bodies the first-boot call-back posted, in order. */
  provisioned: unknown[];
  /** Every PUT /api/nodes/:id body, in order (status history). */
  updates: Record<string, unknown>[];
}

export interface TaskRecord {
  task: Task;
  mac: string;
  queuedAt: number;
  dispatchedAt: number | undefined;
  finishedAt: number | undefined;
  logLines: string[];
  result: TaskResult | undefined;
}

/** A first-boot call-back whose uid matched no node. */
export interface OrphanCallback {
  uid: string;
  body: unknown;
}

export interface NailgunState {
  nodes: Map<number, MockNode>;
  tasks: Map<string, TaskRecord>;
  /** Task ids per MAC, not handed out yet. */
  queues: Map<string, string[]>;
  nextId: number;
  /** Cluster 1's provision.method attribute (engine and profiles are configuration, not data). */
  method: ProvisionMethod;
  /** Provisioning messages for Astute; the first rpcTaken of them were taken. */
  rpcs: ProvisionRpc[];
  rpcTaken: number;
  orphanCallbacks: OrphanCallback[];
}

export const emptyState = (method: ProvisionMethod): NailgunState => ({
  nodes: new Map(), tasks: new Map(), queues: new Map(), nextId: 1, method, rpcs: [], rpcTaken: 0, orphanCallbacks: [],
});

const nodeSchema = z.object({
  id: z.number().int().positive(),
  macs: z.array(z.string()).min(1),
  status: z.enum(NODE_STATUSES),
  progress: z.number(),
  errorType: z.string().optional(),
  errorMessage: z.string().optional(),
  inventory: z.unknown().optional(),
  agentVersion: z.string().optional(),
  cmdline: z.string().optional(),
  discoveredAt: z.number(),
  discoveries: z.number().int().nonnegative(),
  provision: z.unknown().optional(),
  provisioned: z.array(z.unknown()),
  updates: z.array(z.record(z.string(), z.unknown())),
});

const taskRecordSchema = z.object({
  task: taskSchema,
  mac: z.string(),
  queuedAt: z.number(),
  dispatchedAt: z.number().optional(),
  finishedAt: z.number().optional(),
  logLines: z.array(z.string()),
  result: z.object({ exitCode: z.number(), stdout: z.string(), stderrTail: z.string(), durationMs: z.number() }).optional(),
});

export const STATE_VERSION = 1;

const stateFileSchema = z
  .object({
    version: z.literal(STATE_VERSION),
    nodes: z.array(nodeSchema),
    tasks: z.array(taskRecordSchema),
    queues: z.record(z.string(), z.array(z.string())),
    nextId: z.number().int().positive(),
    cluster: z.object({ method: z.enum(PROVISION_METHODS) }),
    rpcs: z.array(provisionRpc),
    rpcTaken: z.number().int().nonnegative(),
    orphanCallbacks: z.array(z.object({ uid: z.string(), body: z.unknown().optional() })),
  })
  // The references a restarted mock relies on: queued ids name tasks, new ids do not collide.
  .superRefine((s, ctx) => {
    const ids = new Set(s.tasks.map((t) => t.task.id));
    for (const [mac, q] of Object.entries(s.queues)) {
      q.forEach((id, i) => {
        if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['queues', mac, i], message: `queued task ${id} is not in tasks` });
      });
    }
    if (s.rpcTaken > s.rpcs.length) ctx.addIssue({ code: 'custom', path: ['rpcTaken'], message: `${s.rpcTaken} taken of ${s.rpcs.length} messages` });
    const maxId = Math.max(0, ...s.nodes.map((n) => n.id));
    if (s.nextId <= maxId) ctx.addIssue({ code: 'custom', path: ['nextId'], message: `must be > ${maxId} (the highest node id)` });
  });

/** The file form: plain JSON (undefined fields are left out). */
export type NailgunStateFile = z.input<typeof stateFileSchema>;

/** The state as JSON. Shares the live objects: serialise it before the state changes again. */
export function snapshot(s: NailgunState): NailgunStateFile {
  return {
    version: STATE_VERSION,
    nodes: [...s.nodes.values()],
    tasks: [...s.tasks.values()],
    queues: Object.fromEntries(s.queues),
    nextId: s.nextId,
    cluster: { method: s.method },
    rpcs: s.rpcs,
    rpcTaken: s.rpcTaken,
    orphanCallbacks: s.orphanCallbacks,
  };
}

/**
 * The state back from its JSON. Every MockNode/TaskRecord field is present (an
 * absent one as undefined), so assigning a restored record onto a live one
 * resets fields the file does not hold. Throws LAB_FAILED naming `source` and the field.
 */
export function restore(json: unknown, source = 'mock nailgun state'): NailgunState {
  const r = stateFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    const field = formatPath(issue.path);
    throw new ForgeError('LAB_FAILED', `${source}: ${field}: ${describeIssue(issue, json)}`, { field });
  }
  const s = r.data;
  const nodes = s.nodes.map((n): MockNode => ({
    id: n.id, macs: n.macs, status: n.status, progress: n.progress, errorType: n.errorType, errorMessage: n.errorMessage,
    inventory: n.inventory, agentVersion: n.agentVersion, cmdline: n.cmdline, discoveredAt: n.discoveredAt,
    discoveries: n.discoveries, provision: n.provision, provisioned: n.provisioned, updates: n.updates,
  }));
  const tasks = s.tasks.map((t): TaskRecord => ({
    task: t.task, mac: t.mac, queuedAt: t.queuedAt, dispatchedAt: t.dispatchedAt, finishedAt: t.finishedAt, logLines: t.logLines, result: t.result,
  }));
  return {
    nodes: new Map(nodes.map((n) => [n.id, n])),
    tasks: new Map(tasks.map((t) => [t.task.id, t])),
    queues: new Map(Object.entries(s.queues)),
    nextId: s.nextId,
    method: s.cluster.method,
    rpcs: s.rpcs,
    rpcTaken: s.rpcTaken,
    orphanCallbacks: s.orphanCallbacks.map((o) => ({ uid: o.uid, body: o.body })),
  };
}

/** Writes `<file>.tmp` then renames it over the file: a reader never sees half a state. */
export function writeStateFile(file: string, s: NailgunState): void {
  try {
    writeFileSync(`${file}.tmp`, JSON.stringify(snapshot(s)));
    renameSync(`${file}.tmp`, file);
  } catch (e) {
    throw new ForgeError('LAB_FAILED', `mock nailgun: cannot write state file ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Reads a state file (synchronously: a reload happens between two requests, never during one). */
export function readStateFile(file: string): NailgunState {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ForgeError('LAB_FAILED', `mock nailgun: state file ${file} is unreadable: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return restore(json, `mock nailgun: state file ${file}`);
}
