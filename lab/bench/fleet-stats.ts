// The fleet benchmark's numbers (pure): what kind of request each master hit was,
// percentiles of the nodes' times, one row per fleet size, the two tables the
// script prints, and the extrapolation to a bigger fleet on a faster link.
// MB is 10^6 bytes throughout, as link rates are quoted.

/** Every request a node (or Astute, for progress) makes of the master, by purpose. */
export const REQUEST_KINDS = ['discovery', 'poll', 'log', 'result', 'progress', 'callback', 'image', 'metadata', 'other'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type KindCounts = Record<RequestKind, number>;

const MB = 1e6;

/** A REST request to mock Nailgun (its `requests` log: method, path with query). */
export function apiKind(method: string, path: string): RequestKind {
  const p = path.replace(/\?.*$/, '');
  if (method === 'POST' && p === '/api/nodes/agent') return 'discovery';
  if (method === 'GET' && p === '/api/nodes/agent/tasks') return 'poll';
  if (method === 'POST' && /^\/api\/nodes\/agent\/tasks\/[^/]+\/log$/.test(p)) return 'log';
  if (method === 'POST' && /^\/api\/nodes\/agent\/tasks\/[^/]+\/result$/.test(p)) return 'result';
  // Astute's node updates (status, progress) land on the same API.
  if (method === 'PUT' && /^\/api(?:\/v1)?\/nodes\/\d+\/?$/.test(p)) return 'progress';
  if ((method === 'POST' || method === 'PUT') && /^\/api(?:\/v1)?\/nodes\/[^/]+\/provisioned\/?$/.test(p)) return 'callback';
  return 'other';
}

/** A file served under /targetimages/: the image itself or the metadata beside it. */
export function staticKind(path: string): RequestKind {
  return path.endsWith('.meta.json') ? 'metadata' : 'image';
}

export function zeroCounts(): KindCounts {
  return Object.fromEntries(REQUEST_KINDS.map((k) => [k, 0])) as KindCounts;
}

export function countKinds(api: readonly { method: string; path: string }[], statics: readonly { path: string }[]): KindCounts {
  const c = zeroCounts();
  for (const r of api) c[apiKind(r.method, r.path)]++;
  for (const r of statics) c[staticKind(r.path)]++;
  return c;
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

/** The most requests seen in any one window, from cumulative counts sampled once per window. */
export function peakRate(cumulative: readonly number[]): number {
  let peak = 0;
  for (let i = 1; i < cumulative.length; i++) peak = Math.max(peak, (cumulative[i] as number) - (cumulative[i - 1] as number));
  return peak;
}

/** Moments of one node's provisioning (epoch ms), in order. */
export const MARKS = ['started', 'discovered', 'uploaded', 'partitioned', 'imageStarted', 'imaged', 'calledBack'] as const;
export type Mark = (typeof MARKS)[number];
export type Marks = Partial<Record<Mark, number>>;

/** Where a node's time goes: each phase runs from one mark to the next. */
export const PHASES = [
  ['discovery', 'started', 'discovered'],
  ['upload', 'discovered', 'uploaded'],
  ['partition', 'uploaded', 'partitioned'],
  // The image task waits in the queue until the node's next poll.
  ['handoff', 'partitioned', 'imageStarted'],
  ['image', 'imageStarted', 'imaged'],
  ['callback', 'imaged', 'calledBack'],
] as const satisfies readonly (readonly [string, Mark, Mark])[];
export type Phase = (typeof PHASES)[number][0];

export interface NodeTiming {
  name: string;
  ok: boolean;
  marks: Marks;
  error?: string;
}

/** Agent start to call-back received, in seconds, when it got there. */
export function nodeSeconds(m: Marks): number | undefined {
  return m.started === undefined || m.calledBack === undefined ? undefined : (m.calledBack - m.started) / 1000;
}

/** The image server alone: one plain GET, then `parallel` GETs at once, in MB/s. */
export interface Ceiling {
  singleMBps: number;
  parallelMBps: number;
  parallel: number;
}

/** What one fleet size measured. */
export interface FleetRun {
  nodes: number;
  /** All agents started to the last call-back (or failure). */
  wallS: number;
  nodeTimes: NodeTiming[];
  /** Raw bytes the nodes wrote and the host read back and verified. */
  verifiedBytes: number;
  /** Image bytes the master sent (the compressed file, every GET). */
  wireBytes: number;
  /** First image task handed out to the last one finished. */
  imageWindowS: number;
  ceiling: Ceiling;
  counts: KindCounts;
  /** Most master requests in one second. */
  peakReqPerS: number;
  /** CPU seconds of the node agents and every program they ran, all nodes. */
  nodeCpuS: number;
  /** CPU seconds of the master process (mock Nailgun, image server, Astute's loop). */
  masterCpuS: number;
  /** Master CPU seconds per GB while it only served the image (the ceiling measurement). */
  serveCpuSPerGB: number;
  /** Most memory the agent processes held at once. */
  agentsPeakRssMiB: number;
}

export interface FleetRow {
  nodes: number;
  ok: number;
  failed: number;
  wallS: number;
  writtenMBps: number;
  wireMBps: number;
  ceilingMBps: number;
  /** Aggregate wire rate over the ceiling: how much of the server the fleet used. */
  ratio: number;
  p50: number;
  p95: number;
  max: number;
  reqPerS: number;
  peakReqPerS: number;
  /** Requests per node per second of the whole run, by kind. */
  perNodePerS: KindCounts;
  /** Requests per node over its whole provisioning, by kind. */
  perNode: KindCounts;
  /** Seconds per phase over the nodes that succeeded. */
  phases: Record<Phase, { p50: number; max: number }>;
  nodeCpuPerNode: number;
  masterCpuPerNode: number;
  serveCpuSPerGB: number;
  /** Image bytes the master sent per node that succeeded. */
  wireBytesPerNode: number;
  agentsPeakRssMiB: number;
}

export function fleetRow(r: FleetRun): FleetRow {
  const times = r.nodeTimes.flatMap((t) => {
    const secs = nodeSeconds(t.marks);
    return t.ok && secs !== undefined ? [secs] : [];
  });
  const phases = Object.fromEntries(PHASES.map(([name, from, to]) => {
    const xs = r.nodeTimes.flatMap((t) => {
      const a = t.marks[from];
      const b = t.marks[to];
      return t.ok && a !== undefined && b !== undefined ? [(b - a) / 1000] : [];
    });
    return [name, { p50: percentile(xs, 50), max: xs.length ? Math.max(...xs) : Number.NaN }];
  })) as Record<Phase, { p50: number; max: number }>;
  const ok = r.nodeTimes.filter((t) => t.ok).length;
  const wall = Math.max(r.wallS, 1e-9);
  const wireMBps = r.wireBytes / MB / Math.max(r.imageWindowS, 1e-9);
  const ceilingMBps = Math.max(r.ceiling.singleMBps, r.ceiling.parallelMBps);
  const total = REQUEST_KINDS.reduce((s, k) => s + r.counts[k], 0);
  const per = (f: (n: number) => number): KindCounts =>
    Object.fromEntries(REQUEST_KINDS.map((k) => [k, f(r.counts[k])])) as KindCounts;
  return {
    nodes: r.nodes,
    ok,
    failed: r.nodeTimes.length - ok,
    wallS: r.wallS,
    writtenMBps: r.verifiedBytes / MB / wall,
    wireMBps,
    ceilingMBps,
    ratio: ceilingMBps > 0 ? wireMBps / ceilingMBps : Number.NaN,
    p50: percentile(times, 50),
    p95: percentile(times, 95),
    max: times.length ? Math.max(...times) : Number.NaN,
    reqPerS: total / wall,
    peakReqPerS: r.peakReqPerS,
    perNodePerS: per((n) => n / r.nodes / wall),
    perNode: per((n) => n / r.nodes),
    phases,
    nodeCpuPerNode: r.nodeCpuS / r.nodes,
    masterCpuPerNode: r.masterCpuS / r.nodes,
    serveCpuSPerGB: r.serveCpuSPerGB,
    wireBytesPerNode: ok ? r.wireBytes / ok : Number.NaN,
    agentsPeakRssMiB: r.agentsPeakRssMiB,
  };
}

const fix = (n: number, d: number): string => (Number.isFinite(n) ? n.toFixed(d) : '-');

function render(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`, ...rows.map(line)].join('\n');
}

/** Throughput and per-node times, one row per fleet size (a Markdown table). */
export function fleetTable(rows: readonly FleetRow[]): string {
  return render(
    ['N', 'ok', 'failed', 'wall s', 'written MB/s', 'wire MB/s', 'ceiling MB/s', 'wire/ceiling', 'p50 s', 'p95 s', 'max s', 'node CPU s/node', 'master CPU s/node', 'agents peak RSS MiB'],
    rows.map((r) => [
      String(r.nodes), String(r.ok), String(r.failed), fix(r.wallS, 1), fix(r.writtenMBps, 1), fix(r.wireMBps, 1),
      fix(r.ceilingMBps, 1), fix(r.ratio, 2), fix(r.p50, 1), fix(r.p95, 1), fix(r.max, 1),
      fix(r.nodeCpuPerNode, 2), fix(r.masterCpuPerNode, 3), fix(r.agentsPeakRssMiB, 0),
    ]),
  );
}

/** Median (max) seconds per phase: which part grows with the fleet. */
export function phaseTable(rows: readonly FleetRow[]): string {
  return render(
    ['N', ...PHASES.map(([name]) => `${name} s`)],
    rows.map((r) => [String(r.nodes), ...PHASES.map(([name]) => `${fix(r.phases[name].p50, 1)} (${fix(r.phases[name].max, 1)})`)]),
  );
}

const LOAD_KINDS: readonly RequestKind[] = ['poll', 'log', 'progress', 'result', 'discovery', 'callback', 'image', 'metadata'];

/** The master's load: totals, and per node per second by kind (flat from row to row = linear growth). */
export function loadTable(rows: readonly FleetRow[]): string {
  return render(
    ['N', 'req/s', 'peak req/s', 'req/node/s', ...LOAD_KINDS.map((k) => `${k}/node/s`), 'req/node'],
    rows.map((r) => {
      const perNodeS = REQUEST_KINDS.reduce((s, k) => s + r.perNodePerS[k], 0);
      const perNode = REQUEST_KINDS.reduce((s, k) => s + r.perNode[k], 0);
      return [
        String(r.nodes), fix(r.reqPerS, 1), String(r.peakReqPerS), fix(perNodeS, 3),
        ...LOAD_KINDS.map((k) => fix(r.perNodePerS[k], 3)), fix(perNode, 1),
      ];
    }),
  );
}

export interface Extrapolation {
  nodes: number;
  bytesPerNode: number;
  linkGbps: number;
  /** Seconds the link needs for every node's image, at full line rate. */
  linkSeconds: number;
  /** Requests the API serves for the whole round (measured requests per node × nodes). */
  apiRequests: number;
  /** Those requests spread over the link-bound round. */
  apiReqPerSOverRound: number;
  /** Every node at the measured per-node request rate at once: the busy-phase figure. */
  apiReqPerSAllBusy: number;
  lines: string[];
}

export interface ExtrapolationInput {
  nodes: number;
  bytesPerNode: number;
  linkGbps: number;
  /** Measured master requests per node over its whole provisioning. */
  perNodeRequests: number;
  /** Measured master requests per node per second. */
  perNodeReqPerS: number;
  /** Measured master CPU: per node in all, and per GB when only serving (optional, together). */
  masterCpu?: { perNode: number; servePerGB: number; measuredBytesPerNode: number };
  /** Payload share of the line rate after Ethernet/IP/TCP/HTTP framing (default 0.94). */
  linkEfficiency?: number;
}

/**
 * Scales the measured per-node numbers to `nodes`: the images are bytes that must
 * cross the master's link (bytes × nodes / rate); the API load is per-node
 * requests × nodes, spread over that round or, every node busy at once, per-node rate × nodes.
 */
export function extrapolate(o: ExtrapolationInput): Extrapolation {
  const eff = o.linkEfficiency ?? 0.94;
  const bytesPerS = (o.linkGbps * 1e9 * eff) / 8;
  const total = o.bytesPerNode * o.nodes;
  const linkSeconds = total / bytesPerS;
  const apiRequests = o.perNodeRequests * o.nodes;
  const apiReqPerSOverRound = apiRequests / linkSeconds;
  const apiReqPerSAllBusy = o.perNodeReqPerS * o.nodes;
  const lines = [
    `images: ${o.nodes} nodes × ${(o.bytesPerNode / MB).toFixed(1)} MB = ${(total / 1e9).toFixed(1)} GB; ${o.linkGbps} Gbit/s × ${eff} payload = ${(bytesPerS / MB).toFixed(0)} MB/s → ${linkSeconds.toFixed(0)} s (${(linkSeconds / 60).toFixed(1)} min) at line rate, ${(bytesPerS / o.nodes / MB).toFixed(2)} MB/s per node when all download at once`,
    `API: ${o.perNodeRequests.toFixed(1)} requests/node × ${o.nodes} = ${apiRequests.toFixed(0)} requests → ${apiReqPerSOverRound.toFixed(0)} req/s over that round; every node busy at once: ${o.perNodeReqPerS.toFixed(3)} req/node/s × ${o.nodes} = ${apiReqPerSAllBusy.toFixed(0)} req/s`,
  ];
  if (o.masterCpu) {
    const c = o.masterCpu;
    // Per node: what serving its image cost at the measured rate, and the rest (API, Astute's loop).
    const apiPerNode = Math.max(0, c.perNode - (c.measuredBytesPerNode / 1e9) * c.servePerGB);
    const serve = (total / 1e9) * c.servePerGB;
    const api = apiPerNode * o.nodes;
    lines.push(`master CPU: serving ${(total / 1e9).toFixed(1)} GB × ${c.servePerGB.toFixed(2)} s/GB = ${serve.toFixed(0)} s + API/Astute ${apiPerNode.toFixed(3)} s/node × ${o.nodes} = ${api.toFixed(0)} s → ${((serve + api) / linkSeconds).toFixed(2)} cores over the round`);
  }
  return { nodes: o.nodes, bytesPerNode: o.bytesPerNode, linkGbps: o.linkGbps, linkSeconds, apiRequests, apiReqPerSOverRound, apiReqPerSAllBusy, lines };
}
