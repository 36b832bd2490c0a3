import { describe, expect, it } from 'vitest';
import { apiKind, countKinds, extrapolate, fleetRow, fleetTable, loadTable, peakRate, percentile, phaseTable, staticKind, zeroCounts, type FleetRun } from './fleet-stats.js';

describe('request kinds', () => {
  it('names every exchange of the bootstrap protocol and Astute’s node updates', () => {
    expect(apiKind('POST', '/api/nodes/agent')).toBe('discovery');
    expect(apiKind('GET', '/api/nodes/agent/tasks?mac=02%3Af1%3Aee%3A00%3A00%3A01')).toBe('poll');
    expect(apiKind('POST', '/api/nodes/agent/tasks/3f2a-b/log')).toBe('log');
    expect(apiKind('POST', '/api/nodes/agent/tasks/3f2a-b/result')).toBe('result');
    expect(apiKind('PUT', '/api/nodes/7')).toBe('progress');
    expect(apiKind('PUT', '/api/v1/nodes/7/')).toBe('progress');
    expect(apiKind('POST', '/api/nodes/7/provisioned')).toBe('callback');
    expect(apiKind('GET', '/api/nodes/7')).toBe('other');
    expect(apiKind('GET', '/api/nodes')).toBe('other');
  });

  it('tells the image from its metadata and counts both sides', () => {
    expect(staticKind('fleet-128m.img.gz')).toBe('image');
    expect(staticKind('fleet-128m.img.gz.meta.json')).toBe('metadata');
    const c = countKinds(
      [{ method: 'POST', path: '/api/nodes/agent' }, { method: 'GET', path: '/api/nodes/agent/tasks?mac=x' }, { method: 'GET', path: '/api/nodes/agent/tasks?mac=y' }],
      [{ path: 'a.img.gz' }, { path: 'a.img.gz.meta.json' }],
    );
    expect(c).toEqual({ ...zeroCounts(), discovery: 1, poll: 2, image: 1, metadata: 1 });
  });
});

describe('percentiles and peaks', () => {
  it('uses the nearest rank', () => {
    const xs = [15, 20, 35, 40, 50];
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 95)).toBe(50);
    expect(percentile(xs, 0)).toBe(15);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(percentile([], 50)).toBeNaN();
  });

  it('does not depend on input order', () => {
    expect(percentile([50, 15, 40, 20, 35], 50)).toBe(35);
  });

  it('finds the busiest window from cumulative samples', () => {
    expect(peakRate([0, 3, 10, 12, 12])).toBe(7);
    expect(peakRate([5])).toBe(0);
  });
});

const run = (over: Partial<FleetRun> = {}): FleetRun => ({
  nodes: 2,
  wallS: 10,
  nodeTimes: [
    { name: 'node-1', ok: true, marks: { started: 0, discovered: 1000, uploaded: 2000, partitioned: 4000, imageStarted: 4500, imaged: 7000, calledBack: 8000 } },
    { name: 'node-2', ok: true, marks: { started: 0, discovered: 3000, uploaded: 4000, partitioned: 6000, imageStarted: 6000, imaged: 9000, calledBack: 10_000 } },
  ],
  verifiedBytes: 200e6,
  wireBytes: 100e6,
  imageWindowS: 4,
  ceiling: { singleMBps: 400, parallelMBps: 500, parallel: 8 },
  counts: { ...zeroCounts(), poll: 10, log: 8, progress: 4, result: 6, discovery: 2, callback: 2, image: 2, metadata: 2 },
  peakReqPerS: 9,
  nodeCpuS: 6,
  masterCpuS: 1,
  serveCpuSPerGB: 0.3,
  agentsPeakRssMiB: 420,
  ...over,
});

describe('fleet row', () => {
  it('derives throughput, the ceiling ratio, times and per-node rates', () => {
    const r = fleetRow(run());
    expect(r.ok).toBe(2);
    expect(r.failed).toBe(0);
    expect(r.writtenMBps).toBe(20);
    expect(r.wireMBps).toBe(25);
    expect(r.ceilingMBps).toBe(500);
    expect(r.ratio).toBeCloseTo(0.05);
    expect([r.p50, r.p95, r.max]).toEqual([8, 10, 10]);
    expect(r.reqPerS).toBe(3.6);
    expect(r.perNodePerS.poll).toBe(0.5);
    expect(r.perNode.poll).toBe(5);
    expect([r.nodeCpuPerNode, r.masterCpuPerNode, r.agentsPeakRssMiB, r.wireBytesPerNode]).toEqual([3, 0.5, 420, 50e6]);
    expect(r.phases.discovery).toEqual({ p50: 1, max: 3 });
    expect(r.phases.handoff).toEqual({ p50: 0, max: 0.5 });
    expect(r.phases.image).toEqual({ p50: 2.5, max: 3 });
  });

  it('leaves failed nodes out of the times but counts them', () => {
    const r = fleetRow(run({ nodeTimes: [{ name: 'node-1', ok: true, marks: { started: 0, calledBack: 8000 } }, { name: 'node-2', ok: false, marks: { started: 0, discovered: 500 }, error: 'image: exit 1' }] }));
    expect(r.failed).toBe(1);
    expect([r.p50, r.max]).toEqual([8, 8]);
    expect(r.phases.discovery.p50).toBeNaN();
  });

  it('renders both tables with one line per fleet size', () => {
    const rows = [fleetRow(run()), fleetRow(run({ nodes: 10 }))];
    const t = fleetTable(rows).split('\n');
    expect(t).toHaveLength(4);
    expect(t[0]).toMatch(/^\|\s+N \| +ok \| failed \|/);
    expect(t[2]).toMatch(/\|\s+25\.0 \|/);
    const l = loadTable(rows).split('\n');
    expect(l).toHaveLength(4);
    expect(l[0]).toContain('poll/node/s');
    expect(l[2]).toMatch(/\|\s+0\.500 \|/);
    expect(phaseTable(rows).split('\n')[2]).toMatch(/^\|\s+2 \|\s+1\.0 \(3\.0\) \|/);
    // No failed times: a dash, not NaN.
    expect(fleetTable([fleetRow(run({ nodeTimes: [] }))])).toContain(' - |');
  });
});

describe('extrapolation', () => {
  it('is bytes × nodes over the link rate, and per-node requests × nodes', () => {
    const e = extrapolate({ nodes: 1000, bytesPerNode: 312.5e6, linkGbps: 10, perNodeRequests: 25, perNodeReqPerS: 0.5, linkEfficiency: 1,
      masterCpu: { perNode: 0.08, servePerGB: 0.2, measuredBytesPerNode: 100e6 } });
    // 312.5 GB at 1.25 GB/s.
    expect(e.linkSeconds).toBe(250);
    expect(e.apiRequests).toBe(25_000);
    expect(e.apiReqPerSOverRound).toBe(100);
    expect(e.apiReqPerSAllBusy).toBe(500);
    expect(e.lines[0]).toContain('1000 nodes × 312.5 MB = 312.5 GB');
    expect(e.lines[0]).toContain('1.25 MB/s per node');
    expect(e.lines[1]).toBe('API: 25.0 requests/node × 1000 = 25000 requests → 100 req/s over that round; every node busy at once: 0.500 req/node/s × 1000 = 500 req/s');
    // 0.08 s/node measured, 0.02 of it serving 100 MB: 0.06 s/node API; 312.5 GB × 0.2 s/GB = 62.5 s serving.
    expect(e.lines[2]).toBe('master CPU: serving 312.5 GB × 0.20 s/GB = 63 s + API/Astute 0.060 s/node × 1000 = 60 s → 0.49 cores over the round');
  });

  it('takes the framing overhead off the line rate by default', () => {
    expect(extrapolate({ nodes: 1, bytesPerNode: 1.175e9, linkGbps: 10, perNodeRequests: 1, perNodeReqPerS: 1 }).linkSeconds).toBeCloseTo(1);
  });
});
