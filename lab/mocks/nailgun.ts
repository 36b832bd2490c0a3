// Mock Nailgun: the master's REST API as the lab needs it — node discovery and
// listing, node status/progress, provisioning data per node, the bootstrap task
// exchange (agent/bootstrap/protocol.ts), the configdrive's first-boot
// "provisioned" call-back, and the OS images under /targetimages/ (Range-capable,
// with fault injection). Real HTTP, because QEMU guests need real servers.
//
// With a state file it persists what a real Nailgun keeps in its database
// (nailgun-state.ts) after every change, and can be restarted or held down: /api
// then answers 502 as Fuel's nginx does while Nailgun is gone, the static trees
// stay served (nginx serves those itself), and the state comes back from the file.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DiscoveryReport, Task, TaskResult } from '../../agent/bootstrap/protocol.js';
import { ForgeError } from '../../agent/core/errors.js';
import { HttpError, listen, readJson, sendJson, type Listening } from './http.js';
import {
  emptyState, NODE_STATUSES, readStateFile, writeStateFile, type MockNode, type NailgunState, type NodeStatus, type TaskRecord,
} from './nailgun-state.js';
import {
  DEFAULT_PROFILES, PROVISION_METHODS, provisionMessage, type CobblerEngine, type ProvisionMethod, type ProvisionRpc, type ReleaseProfiles,
} from './provision-rpc.js';
import { StaticFiles } from './static-files.js';

export type { MockNode, NodeStatus, OrphanCallback, TaskRecord } from './nailgun-state.js';

export type TaskInput = Task extends infer T ? (T extends { id: string } ? Omit<T, 'id'> : never) : never;

export interface NailgunOptions {
  host?: string;
  port?: number;
  /** Directory served under /targetimages/. */
  imagesDir?: string;
  /** Extra static trees (e.g. { bootstrap: dir } → /bootstrap/…). */
  staticDirs?: Record<string, string>;
  /** The one cluster every node joins: its provisioning method (default image) and Cobbler. */
  cluster?: { method?: ProvisionMethod; engine?: CobblerEngine; profiles?: ReleaseProfiles };
  /**
   * Where the durable state is kept (written atomically after every change; a
   * fresh mock starts empty and overwrites it). Needed by restart(), down(), up().
   */
  stateFile?: string;
}

/**
 * Cluster 1 as Nailgun holds it: the method attribute (persisted, also when
 * assigned directly) and the release's Cobbler profiles and engine (configuration).
 */
export interface MockCluster {
  id: number;
  name: string;
  method: ProvisionMethod;
  profiles: ReleaseProfiles;
  engine: CobblerEngine;
}

export interface StartedNailgun extends AsyncDisposable {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly images: StaticFiles | undefined;
  readonly statics: ReadonlyMap<string, StaticFiles>;
  nodes(): MockNode[];
  nodeByMac(mac: string): MockNode | undefined;
  node(id: number): MockNode | undefined;
  setProvisionData(id: number, data: unknown): void;
  /** Queues a task for the node with this MAC; it is handed out on the node's next poll. */
  enqueue(mac: string, task: TaskInput): TaskRecord;
  task(id: string): TaskRecord | undefined;
  tasks(): TaskRecord[];
  readonly cluster: MockCluster;
  /** Provisioning messages for Astute, oldest first (PUT /api/clusters/1/provision queues one). */
  readonly rpcs: ProvisionRpc[];
  /** Waits for the next provisioning message not taken yet. */
  takeRpc(timeoutMs: number): Promise<ProvisionRpc>;
  /** Every REST request served (method, path with query), in order: the exchange a test can replay. */
  readonly requests: { method: string; path: string }[];
  /** Every /api request answered 502 while Nailgun was down, in order. */
  readonly refused: { method: string; path: string; at: number }[];
  /**
   * Nailgun restarting behind nginx: /api answers 502 for downMs, then the state
   * is reloaded from the state file (anything not persisted is lost) and /api is
   * served again. Rejects with USAGE without a state file, LAB_FAILED if the file
   * cannot be loaded (Nailgun then stays down). Ends a down() hold too.
   */
  restart(o: { downMs: number }): Promise<void>;
  /** Takes Nailgun down until up(): for a test that waits to see something refused. */
  down(): void;
  /** Brings it back after down(), reloading from the state file (throws LAB_FAILED and stays down if it cannot). */
  up(): void;
  /** Resolves when the task has a result (or rejects after timeoutMs). Log lines stream to onLog. */
  awaitResult(id: string, timeoutMs: number, onLog?: (line: string) => void): Promise<TaskResult>;
  close(): Promise<void>;
}

/** Exit code recorded for a task whose node rebooted before it reported a result. */
export const LOST_TASK_EXIT = 255;

const normMac = (m: string): string => m.trim().toLowerCase().replaceAll('-', ':');

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export async function startNailgun(opts: NailgunOptions = {}): Promise<StartedNailgun> {
  // The durable state; its maps and arrays are only ever changed in place, so
  // the references below (and rpcs/cluster handed to callers) stay valid across a reload.
  const state: NailgunState = emptyState(opts.cluster?.method ?? 'image');
  const { nodes, tasks, queues, rpcs, orphanCallbacks } = state;
  const waiters = new Map<string, Set<() => void>>();
  const images = opts.imagesDir ? new StaticFiles(opts.imagesDir) : undefined;
  const statics = new Map(Object.entries(opts.staticDirs ?? {}).map(([k, d]) => [k, new StaticFiles(d)]));

  const notify = (taskId: string): void => {
    for (const w of waiters.get(taskId) ?? []) w();
  };
  const byMac = (mac: string): MockNode | undefined => {
    const m = normMac(mac);
    return [...nodes.values()].find((n) => n.macs.includes(m));
  };
  const nodeOr404 = (idText: string): MockNode => {
    const n = nodes.get(Number(idText));
    if (!n) throw new HttpError(404, `node ${idText} not found`);
    return n;
  };
  const view = (n: MockNode): Record<string, unknown> => ({
    id: n.id,
    mac: n.macs[0],
    macs: n.macs,
    status: n.status,
    progress: n.progress,
    error_type: n.errorType ?? null,
    error_msg: n.errorMessage ?? null,
    meta: n.inventory,
    agent_version: n.agentVersion,
    online: true,
    cluster: cluster.id,
  });
  const cluster: MockCluster = {
    id: 1,
    name: 'lab',
    get method(): ProvisionMethod {
      return state.method;
    },
    // Tests and the lab set the method directly, as the orchestrator would through the UI: persisted.
    set method(m: ProvisionMethod) {
      state.method = m;
      persist();
    },
    profiles: opts.cluster?.profiles ?? DEFAULT_PROFILES,
    engine: opts.cluster?.engine ?? { url: 'http://127.0.0.1/cobbler_api', username: 'cobbler', password: 'cobbler', master_ip: '127.0.0.1' },
  };
  const rpcWaiters = new Set<() => void>();
  const requests: { method: string; path: string }[] = [];
  // Nailgun's attribute as its UI edits it: editable.provision.method.value.
  const attributesView = (): Record<string, unknown> => ({
    editable: {
      provision: {
        method: {
          value: cluster.method,
          type: 'radio',
          values: [
            { data: 'image', label: 'Image' },
            { data: 'cobbler', label: 'Classic (use for legacy systems)' },
          ],
        },
      },
    },
  });
  const provisionNodes = (ids: number[]): ProvisionRpc => {
    const docs = ids.map((id) => {
      const n = nodeOr404(String(id));
      if (!isObj(n.provision)) throw new HttpError(400, `node ${id}: no provisioning data`);
      return n.provision;
    });
    let msg: ProvisionRpc;
    try {
      msg = provisionMessage({ method: cluster.method, engine: cluster.engine, profiles: cluster.profiles, nodes: docs });
    } catch (e) {
      throw new HttpError(400, e instanceof Error ? e.message : String(e));
    }
    for (const id of ids) {
      const n = nodes.get(id) as MockNode;
      n.status = 'provisioning';
      n.progress = 0;
    }
    rpcs.push(msg);
    for (const w of [...rpcWaiters]) w();
    return msg;
  };

  const discover = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    if (!isObj(body) || !Array.isArray(body['macs']) || body['macs'].length === 0 || !body['macs'].every((m) => typeof m === 'string')) {
      throw new HttpError(400, 'discovery: macs must be a non-empty string array');
    }
    const r = body as unknown as DiscoveryReport;
    const macs = r.macs.map(normMac);
    let n = macs.map(byMac).find((x) => x !== undefined);
    if (!n) {
      n = {
        id: state.nextId++, macs, status: 'discover', progress: 0, errorType: undefined, errorMessage: undefined,
        inventory: r.inventory, agentVersion: r.agentVersion, cmdline: r.cmdline, discoveredAt: Date.now(),
        discoveries: 0, provision: undefined, provisioned: [], updates: [],
      };
      nodes.set(n.id, n);
    } else {
      n.inventory = r.inventory;
      n.agentVersion = r.agentVersion;
      n.cmdline = r.cmdline;
      n.discoveredAt = Date.now();
    }
    n.discoveries++;
    // A node that reports discovery again has rebooted: whatever it was running is
    // lost, and waiting for its result would hang until the stage timeout.
    for (const t of tasks.values()) {
      if (t.dispatchedAt !== undefined && !t.result && macs.includes(t.mac)) {
        t.result = { exitCode: LOST_TASK_EXIT, stdout: '', stderrTail: 'node rebooted into the bootstrap while this task ran', durationMs: Date.now() - t.dispatchedAt };
        t.finishedAt = Date.now();
        notify(t.task.id);
      }
    }
    sendJson(res, 200, { id: n.id });
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const p = url.pathname;
    const method = req.method ?? 'GET';
    let m: RegExpExecArray | null;
    if ((m = /^\/api(?:\/v1)?\/clusters\/(\d+)(\/.*)?$/.exec(p))) {
      if (Number(m[1]) !== cluster.id) throw new HttpError(404, `cluster ${m[1]} not found`);
      const sub = (m[2] ?? '/').replace(/\/$/, '');
      if (method === 'GET' && sub === '') return sendJson(res, 200, { id: cluster.id, name: cluster.name, release_id: 1, status: 'new' });
      if (method === 'GET' && sub === '/attributes') return sendJson(res, 200, attributesView());
      if (method === 'PUT' && sub === '/attributes') {
        const body = await readJson(req);
        const v = isObj(body) && isObj(body['editable']) && isObj(body['editable']['provision']) && isObj(body['editable']['provision']['method'])
          ? body['editable']['provision']['method']['value'] : undefined;
        if (!(PROVISION_METHODS as readonly unknown[]).includes(v)) {
          throw new HttpError(400, `editable.provision.method.value: must be one of ${PROVISION_METHODS.join(', ')}, got ${JSON.stringify(v)}`);
        }
        state.method = v as ProvisionMethod;
        return sendJson(res, 200, attributesView());
      }
      if (method === 'PUT' && sub === '/provision') {
        const ids = (url.searchParams.get('nodes') ?? '').split(',').filter(Boolean).map(Number);
        if (ids.length === 0 || ids.some((x) => !Number.isInteger(x))) throw new HttpError(400, 'provision: ?nodes=<id,id,…> is required');
        const msg = provisionNodes(ids);
        return sendJson(res, 202, { uuid: msg.args.task_uuid, name: 'provision', status: 'running', cluster: cluster.id });
      }
      throw new HttpError(404, `${method} ${p}: no such endpoint`);
    }
    if (method === 'GET' && (m = /^\/api(?:\/v1)?\/releases\/1\/?$/.exec(p))) {
      return sendJson(res, 200, { id: 1, name: 'Debian 12 (lab)', operating_system: 'Debian', profiles: cluster.profiles });
    }
    if ((method === 'GET' || method === 'HEAD') && p.startsWith('/targetimages/')) {
      if (!images) throw new HttpError(404, 'no images directory configured');
      return images.serve(req, res, p.slice('/targetimages/'.length));
    }
    if ((method === 'GET' || method === 'HEAD') && (m = /^\/([\w-]+)\/(.+)$/.exec(p)) && statics.has(m[1] as string)) {
      return (statics.get(m[1] as string) as StaticFiles).serve(req, res, m[2] as string);
    }
    if (method === 'POST' && p === '/api/nodes/agent') return discover(req, res);
    if (method === 'GET' && p === '/api/nodes/agent/tasks') {
      const mac = normMac(url.searchParams.get('mac') ?? '');
      const q = queues.get(mac);
      const id = q?.shift();
      if (!id) {
        res.writeHead(204);
        res.end();
        return;
      }
      const t = tasks.get(id) as TaskRecord;
      t.dispatchedAt = Date.now();
      // A handed-out task is a change (an idle poll is not): persisted before the node sees it.
      persist();
      return sendJson(res, 200, t.task);
    }
    if (method === 'POST' && (m = /^\/api\/nodes\/agent\/tasks\/([^/]+)\/(log|result)$/.exec(p))) {
      const t = tasks.get(decodeURIComponent(m[1] as string));
      if (!t) throw new HttpError(404, `task ${m[1]} not found`);
      const body = await readJson(req);
      if (m[2] === 'log') {
        if (!isObj(body) || !Array.isArray(body['lines'])) throw new HttpError(400, 'log: lines must be an array');
        t.logLines.push(...body['lines'].map(String));
      } else {
        if (!isObj(body) || typeof body['exitCode'] !== 'number') throw new HttpError(400, 'result: exitCode must be a number');
        t.result = {
          exitCode: body['exitCode'],
          stdout: String(body['stdout'] ?? ''),
          stderrTail: String(body['stderrTail'] ?? ''),
          durationMs: Number(body['durationMs'] ?? 0),
        };
        t.finishedAt = Date.now();
      }
      notify(t.task.id);
      return sendJson(res, 200, { ok: true });
    }
    if (method === 'GET' && (p === '/api/nodes' || p === '/api/v1/nodes')) {
      return sendJson(res, 200, [...nodes.values()].map(view));
    }
    if ((m = /^\/api(?:\/v1)?\/nodes\/([^/]+)\/provisioned\/?$/.exec(p)) && (method === 'POST' || method === 'PUT')) {
      // Tolerant: the uid may be a Nailgun id or anything the data carried; unknown uids are kept aside.
      const body = await readJson(req).catch(() => ({}));
      const uid = decodeURIComponent(m[1] as string);
      const n = nodes.get(Number(uid)) ?? [...nodes.values()].find((x) => isObj(x.provision) && String(x.provision['uid']) === uid);
      if (n) {
        n.provisioned.push(body);
        n.status = 'provisioned';
        n.progress = 100;
      } else {
        orphanCallbacks.push({ uid, body });
      }
      return sendJson(res, 200, { ok: true });
    }
    if ((m = /^\/api(?:\/v1)?\/nodes\/(\d+)\/provision$/.exec(p)) && method === 'GET') {
      const n = nodeOr404(m[1] as string);
      if (n.provision === undefined) throw new HttpError(404, `node ${n.id}: no provisioning data`);
      return sendJson(res, 200, n.provision);
    }
    if ((m = /^\/api(?:\/v1)?\/nodes\/(\d+)\/?$/.exec(p))) {
      const n = nodeOr404(m[1] as string);
      if (method === 'GET') return sendJson(res, 200, view(n));
      if (method === 'PUT') {
        const body = await readJson(req);
        if (!isObj(body)) throw new HttpError(400, 'node update must be an object');
        n.updates.push(body);
        const st = body['status'];
        if (st !== undefined) {
          if (!(NODE_STATUSES as readonly string[]).includes(String(st))) {
            throw new HttpError(400, `status: unknown value ${String(st)}`);
          }
          n.status = st as NodeStatus;
        }
        if (typeof body['progress'] === 'number') n.progress = Math.max(0, Math.min(100, body['progress']));
        if ('error_type' in body) n.errorType = body['error_type'] == null ? undefined : String(body['error_type']);
        if ('error_msg' in body) n.errorMessage = body['error_msg'] == null ? undefined : String(body['error_msg']);
        return sendJson(res, 200, view(n));
      }
    }
    throw new HttpError(404, `${method} ${p}: no such endpoint`);
  };

  // A failed write is remembered until a later one succeeds (each holds the
  // whole state): a reload before that would silently go back in time.
  let lostWrite: unknown;
  const persist = (): void => {
    if (!opts.stateFile) return;
    try {
      writeStateFile(opts.stateFile, state);
      lostWrite = undefined;
    } catch (e) {
      lostWrite = e;
      throw e;
    }
  };
  const stateFileFor = (what: string): string => {
    if (!opts.stateFile) throw new ForgeError('USAGE', `mock nailgun: ${what} needs NailgunOptions.stateFile (the state a restart comes back with)`);
    return opts.stateFile;
  };
  // What a restarted Nailgun does: read its database. Synchronous, so no request
  // sees half of it.
  const reload = (file: string): void => {
    if (lostWrite !== undefined) {
      throw new ForgeError('LAB_FAILED', `mock nailgun: state file ${file} misses the last change (its write failed)`, { cause: lostWrite });
    }
    const next = readStateFile(file);
    // Updated in place, not replaced: the orchestrator knows a node or task only
    // by id, but tests hold MockNode/TaskRecord objects (node.discoveries,
    // t.logLines) across a restart, and should read what came back.
    adopt(nodes, next.nodes);
    adopt(tasks, next.tasks);
    queues.clear();
    for (const [mac, q] of next.queues) queues.set(mac, q);
    state.nextId = next.nextId;
    state.method = next.method;
    state.rpcTaken = next.rpcTaken;
    refill(rpcs, next.rpcs);
    refill(orphanCallbacks, next.orphanCallbacks);
    // Pending waiters catch up with what came back (or learn their task is gone).
    for (const set of waiters.values()) for (const w of [...set]) w();
    for (const w of [...rpcWaiters]) w();
  };

  let serving = true;
  const refused: StartedNailgun['refused'] = [];
  const handler = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = url.pathname + url.search;
    if (!url.pathname.startsWith('/api/')) return route(req, res, url);
    if (!serving) {
      refused.push({ method, path, at: Date.now() });
      return sendJson(res, 502, { error: 'nailgun is restarting' });
    }
    requests.push({ method, path });
    // Every request that may change the state persists it (the task poll does so
    // itself, only when it hands a task out). The write lands before any other
    // request or a reload can run.
    try {
      await route(req, res, url);
    } finally {
      if (method !== 'GET' && method !== 'HEAD') persist();
    }
  };

  persist();
  const srv: Listening = await listen(opts.host ?? '127.0.0.1', opts.port ?? 0, handler);
  const url = `http://${srv.host}:${srv.port}`;

  const api: StartedNailgun = {
    url,
    host: srv.host,
    port: srv.port,
    images,
    statics,
    nodes: () => [...nodes.values()],
    nodeByMac: byMac,
    node: (id) => nodes.get(id),
    setProvisionData: (id, data) => {
      const n = nodes.get(id);
      if (!n) throw new ForgeError('LAB_FAILED', `mock nailgun: node ${id} not discovered`);
      n.provision = data;
      persist();
    },
    enqueue: (mac, input) => {
      const m = normMac(mac);
      const task = { ...input, id: randomUUID() } as Task;
      const rec: TaskRecord = { task, mac: m, queuedAt: Date.now(), dispatchedAt: undefined, finishedAt: undefined, logLines: [], result: undefined };
      tasks.set(task.id, rec);
      queues.set(m, [...(queues.get(m) ?? []), task.id]);
      persist();
      return rec;
    },
    task: (id) => tasks.get(id),
    tasks: () => [...tasks.values()],
    cluster,
    rpcs,
    requests,
    refused,
    takeRpc: (timeoutMs) =>
      new Promise<ProvisionRpc>((resolve, reject) => {
        const check = (): void => {
          if (state.rpcTaken < rpcs.length) {
            rpcWaiters.delete(check);
            clearTimeout(timer);
            const msg = rpcs[state.rpcTaken++] as ProvisionRpc;
            try {
              persist();
              resolve(msg);
            } catch (e) {
              reject(e);
            }
          }
        };
        const timer = setTimeout(() => {
          rpcWaiters.delete(check);
          reject(new ForgeError('LAB_TIMEOUT', `mock nailgun: no provisioning message after ${timeoutMs} ms`));
        }, timeoutMs);
        rpcWaiters.add(check);
        check();
      }),
    awaitResult: (id, timeoutMs, onLog) =>
      new Promise<TaskResult>((resolve, reject) => {
        if (!tasks.has(id)) return reject(new ForgeError('LAB_FAILED', `mock nailgun: no task ${id}`));
        // Looked up by id on every check and lines counted, not the record kept:
        // a restart reloads the tasks, and onLog must see each line once.
        let sent = 0;
        const set = waiters.get(id) ?? new Set();
        waiters.set(id, set);
        const done = (): void => {
          clearTimeout(timer);
          set.delete(check);
        };
        const check = (): void => {
          const rec = tasks.get(id);
          if (!rec) {
            done();
            return reject(new ForgeError('LAB_FAILED', `mock nailgun: task ${id} is gone after a restart (it was never persisted)`));
          }
          if (onLog) while (sent < rec.logLines.length) onLog(rec.logLines[sent++] as string);
          if (rec.result) {
            done();
            resolve(rec.result);
          }
        };
        const timer = setTimeout(() => {
          done();
          const rec = tasks.get(id);
          reject(new ForgeError('LAB_TIMEOUT', `task ${rec?.task.kind ?? '?'} ${id} on ${rec?.mac ?? '?'}: no result after ${timeoutMs} ms` +
            (rec?.dispatchedAt ? '' : ' (never picked up by the node)'), { details: { taskId: id, dispatched: rec?.dispatchedAt !== undefined } }));
        }, timeoutMs);
        set.add(check);
        check();
      }),
    down: () => {
      stateFileFor('down()');
      serving = false;
    },
    up: () => {
      if (serving) return;
      reload(stateFileFor('up()'));
      serving = true;
    },
    restart: async ({ downMs }) => {
      stateFileFor('restart()');
      api.down();
      await new Promise((r) => setTimeout(r, downMs));
      api.up();
    },
    close: () => srv.close(),
    [Symbol.asyncDispose]: () => srv.close(),
  };
  return api;
}

/** Puts next's records into live, keeping the live object of every id that came back. */
function adopt<K, V extends object>(live: Map<K, V>, next: ReadonlyMap<K, V>): void {
  const old = new Map(live);
  live.clear();
  for (const [k, v] of next) {
    const o = old.get(k);
    live.set(k, o ? assignInPlace(o, v) : v);
  }
}

/** Object.assign that refills arrays rather than replacing them (a test may hold t.logLines itself). */
function assignInPlace<T extends object>(target: T, source: T): T {
  const t = target as Record<string, unknown>;
  for (const [k, v] of Object.entries(source)) {
    const cur = t[k];
    if (Array.isArray(cur) && Array.isArray(v)) refill(cur, v);
    else t[k] = v;
  }
  return target;
}

function refill<T>(live: T[], next: readonly T[]): void {
  live.length = 0;
  for (const x of next) live.push(x);
}
