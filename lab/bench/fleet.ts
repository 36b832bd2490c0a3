// npm run bench:fleet -- [--nodes 1,10,50] [--image-mib 128]
// One master, many nodes, simulated: per fleet size N, a private bridge with N
// node namespaces (fleet-net.ts), a loop disk per node, one mock Nailgun on the
// bridge serving the image, and N real bootstrap agents that discover, take their
// tasks, download, write, verify, report progress and call back (fleet-node.ts).
// The image server's ceiling is measured first in the same run (fleet-ceiling.ts);
// afterwards the host reads every node's partition back (fleet-verify.ts). Prints
// the throughput/time table, the master-load table and the 1,000-node
// extrapolation; writes reports/fleet.json.
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../../agent/core/cleanup.js';
import { ForgeError } from '../../agent/core/errors.js';
import { ExecaRunner, type Runner } from '../../agent/core/runner.js';
import { abortOnSignals } from '../../agent/core/signals.js';
import { startNailgun } from '../mocks/nailgun.js';
import { cacheDir } from '../vm/test-kernel.js';
import { prepareFleetAgent, type FleetAgent } from './fleet-agent.js';
import { parseFleetArgs } from './fleet-args.js';
import { measureCeiling } from './fleet-ceiling.js';
import { createFleetDisks } from './fleet-disks.js';
import { ensureFleetImage, type FleetImage } from './fleet-image.js';
import { startFleetNet } from './fleet-net.js';
import { fleetDiskMiB, provisionFleetNode, type NodeRecord } from './fleet-node.js';
import { ownerTag } from './fleet-owner.js';
import { countKinds, extrapolate, fleetRow, fleetTable, loadTable, peakRate, phaseTable, REQUEST_KINDS, type FleetRun } from './fleet-stats.js';
import { sweepStaleFleets, WORK_PREFIX } from './fleet-sweep.js';
import { childrenCpuSeconds } from '../../agent/host/children-cpu.js';
import { rssOfCommands } from './fleet-usage.js';
import { md5WithHole } from './fleet-verify.js';

const out = (l: string): void => void process.stdout.write(l + '\n');
/** Parallel curl streams for the ceiling (one node namespace, one connection each). */
const CEILING_STREAMS = 8;
/** The deploy image as an operator would publish it (every driver, gzip: debian-bookworm-deploy.img.gz): bytes on the wire per real node. */
const REAL_IMAGE_BYTES = 312_458_320;

interface Shared {
  runner: Runner;
  agent: FleetAgent;
  image: FleetImage;
  /** md5 of the raw image with the superblock zeroed (what every read-back must equal). */
  holeMd5: string;
  work: string;
  signal: AbortSignal;
}

interface FleetResult {
  run: FleetRun;
  records: NodeRecord[];
  rssMiB: { master: number };
}

/** Host-side check of one node's write: the agent's digests and our own read-back. */
async function verifyNode(s: Shared, r: NodeRecord): Promise<void> {
  if (!r.ok) return;
  const w = r.written;
  const m = s.image.meta;
  const fail = (why: string): void => {
    r.ok = false;
    r.failedAt = 'verify';
    r.error = why;
  };
  if (!w) return fail('no image report');
  if (!w.device.startsWith(`${r.disk}p`)) return fail(`wrote ${w.device}, not a partition of its disk ${r.disk}`);
  // The agent reports the digests it computed: sha256 here (the metadata's strongest), md5 if at all.
  if (!w.verified || w.sha256 !== m.raw_sha256 || (w.md5 !== undefined && w.md5 !== m.raw_md5) || w.bytes !== m.raw_size) {
    return fail(`agent digests differ: md5 ${w.md5 ?? '-'} sha256 ${w.sha256 ?? '-'} bytes ${w.bytes} verified ${w.verified}`);
  }
  const back = await md5WithHole(w.device, m.raw_size);
  if (back !== s.holeMd5) return fail(`read-back of ${w.device}: md5 ${back}, image ${s.holeMd5}`);
}

async function runFleet(s: Shared, n: number): Promise<FleetResult> {
  s.signal.throwIfAborted();
  const { runner, image } = s;
  await using stack = new CleanupStack({ code: 'LAB_FAILED' });
  out(`\n== fleet of ${n} ==`);
  const t = Date.now();
  const net = await startFleetNet(runner, n, { signal: s.signal });
  stack.defer('fleet network', () => net.dispose());
  const { sizeMiB, rootMiB } = fleetDiskMiB(image.meta.raw_size);
  const disks = await createFleetDisks(runner, n, sizeMiB, s.signal);
  stack.defer('loop disks', () => disks.dispose());
  const nailgun = await startNailgun({ host: net.masterIp, imagesDir: image.dir });
  stack.defer('mock nailgun', () => nailgun.close());
  const statics = nailgun.images?.requests ?? [];
  out(`network, ${n} loop disks (${sizeMiB} MiB sparse) and master at ${nailgun.url} in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const first = net.nodes[0];
  if (!first) throw new ForgeError('USAGE', 'a fleet needs at least one node', { field: 'nodes' });
  const ceilingCpu = process.cpuUsage();
  const ceilingBase = statics.length;
  const ceiling = await measureCeiling(runner, first.ns, `${nailgun.url}/targetimages/${image.file}`, image.meta.size, CEILING_STREAMS);
  const cc = process.cpuUsage(ceilingCpu);
  const served = statics.slice(ceilingBase).reduce((sum, f) => sum + f.bytes, 0);
  const serveCpuSPerGB = (cc.user + cc.system) / 1e6 / (served / 1e9);
  out(`image server ceiling: ${ceiling.singleMBps.toFixed(0)} MB/s one stream, ${ceiling.parallelMBps.toFixed(0)} MB/s with ${ceiling.parallel} streams; master CPU ${serveCpuSPerGB.toFixed(2)} s/GB served`);

  const apiBase = nailgun.requests.length;
  const staticBase = statics.length;
  const samples: number[] = [];
  const sample = (): void => void samples.push(nailgun.requests.length - apiBase + statics.length - staticBase);
  sample();
  const sampler = setInterval(sample, 1000);
  let rssPeak = 0;
  let agentsPeak = 0;
  // Scanning /proc is the benchmark's own work, not the master's: its CPU is taken off below.
  let scanCpuS = 0;
  const rss = setInterval(() => {
    const c = process.cpuUsage();
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    agentsPeak = Math.max(agentsPeak, rssOfCommands(s.agent.bundle).mib);
    const d = process.cpuUsage(c);
    scanCpuS += (d.user + d.system) / 1e6;
  }, 1000);
  const cpu0 = { node: childrenCpuSeconds(), master: process.cpuUsage() };
  const t0 = Date.now();
  let records: NodeRecord[];
  try {
    const env = { runner, nailgun, agent: s.agent, image, workDir: join(s.work, `n${n}`), signal: s.signal };
    let done = 0;
    records = await Promise.all(net.nodes.map(async (node, i) => {
      const disk = disks.disks[i] as (typeof disks.disks)[number];
      const r = await provisionFleetNode(env, node, { device: disk.device, sizeMiB, rootMiB });
      done++;
      const secs = ((r.marks.calledBack ?? Date.now()) - (r.marks.started ?? 0)) / 1000;
      if (!r.ok || done % Math.max(1, Math.ceil(n / 10)) === 0 || done === n) {
        out(`  ${done}/${n} ${r.name} ${r.ok ? 'called back' : `FAILED at ${r.failedAt}: ${r.error}`} after ${secs.toFixed(1)} s`);
      }
      return r;
    }));
  } finally {
    clearInterval(sampler);
    clearInterval(rss);
  }
  const end = Math.max(...records.map((r) => r.marks.calledBack ?? Date.now()));
  // Every agent has been stopped and reaped: their CPU (and their children's) is in ours now.
  const nodeCpuS = childrenCpuSeconds() - cpu0.node;
  const m = process.cpuUsage(cpu0.master);
  const masterCpuS = (m.user + m.system) / 1e6 - scanCpuS;
  sample();
  const api = nailgun.requests.slice(apiBase);
  const files = statics.slice(staticBase);
  for (const r of records) await verifyNode(s, r);
  const imageStarts = records.flatMap((r) => (r.marks.imageStarted === undefined ? [] : [r.marks.imageStarted]));
  const imageEnds = records.flatMap((r) => (r.marks.imaged === undefined ? [] : [r.marks.imaged]));
  const run: FleetRun = {
    nodes: n,
    wallS: (end - t0) / 1000,
    nodeTimes: records.map((r) => ({
      name: r.name,
      ok: r.ok,
      marks: r.marks,
      ...(r.error === undefined ? {} : { error: `${r.failedAt}: ${r.error}` }),
    })),
    verifiedBytes: records.reduce((sum, r) => sum + (r.ok && r.written ? r.written.bytes : 0), 0),
    wireBytes: files.filter((f) => f.path.endsWith(image.file)).reduce((sum, f) => sum + f.bytes, 0),
    imageWindowS: imageStarts.length ? (Math.max(...imageEnds) - Math.min(...imageStarts)) / 1000 : 0,
    ceiling,
    counts: countKinds(api, files),
    peakReqPerS: peakRate(samples),
    nodeCpuS,
    masterCpuS,
    serveCpuSPerGB,
    agentsPeakRssMiB: agentsPeak,
  };
  return { run, records, rssMiB: { master: Math.round(rssPeak / (1 << 20)) } };
}

function hostFacts(): { cpus: number; memGiB: number; loadavg: string[] } {
  return { cpus: availableParallelism(), memGiB: Math.round(totalmem() / (1 << 30)), loadavg: loadavg().map((x) => x.toFixed(2)) };
}

async function main(): Promise<number> {
  using scope = abortOnSignals();
  const args = parseFleetArgs(process.argv.slice(2));
  // Each node waits on at most two tasks at once, each with an abort listener on the run's signal.
  setMaxListeners(2 * Math.max(...args.nodes) + 10, scope.signal);
  const runner = new ExecaRunner();
  const swept = await sweepStaleFleets(runner);
  if (swept.length) out(`swept leftovers of killed fleet runs: ${swept.join(', ')}`);
  const work = mkdtempSync(join(tmpdir(), `${WORK_PREFIX}${ownerTag()}-`));
  const results: FleetResult[] = [];
  let imageMeta: FleetImage['meta'] | undefined;
  try {
    const agent = await prepareFleetAgent(join(work, 'agent'));
    const image = await ensureFleetImage(runner, join(cacheDir(), 'bench'), args.imageMiB);
    imageMeta = image.meta;
    const holeMd5 = await md5WithHole(image.raw, image.meta.raw_size);
    const h = hostFacts();
    // The box is shared: its load before the run says how much of it the fleet had.
    out(`host: ${h.cpus} CPUs, ${h.memGiB} GiB, load average ${h.loadavg.join(' ')}`);
    out(`agent bundle ${(agent.bytes / 1e6).toFixed(1)} MB; image ${image.file}: ${(image.meta.size / 1e6).toFixed(1)} MB gzip, ${(image.meta.raw_size / 1e6).toFixed(1)} MB raw`);
    const shared: Shared = { runner, agent, image, holeMd5, work, signal: scope.signal };
    for (const n of args.nodes) results.push(await runFleet(shared, n));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const rows = results.map((r) => fleetRow(r.run));
  out('\n== fleet: throughput and per-node time (agent start → call-back) ==');
  out(fleetTable(rows));
  out('\n== where the time goes: median (max) seconds per phase ==');
  out(phaseTable(rows));
  out('\n== master load: requests by kind ==');
  out(loadTable(rows));
  const last = rows.at(-1);
  if (last && last.ok > 0) {
    const sum = (k: 'perNodePerS' | 'perNode'): number => REQUEST_KINDS.reduce((acc, kind) => acc + last[k][kind], 0);
    const measured = {
      perNodeRequests: sum('perNode'),
      perNodeReqPerS: sum('perNodePerS'),
      masterCpu: { perNode: last.masterCpuPerNode, servePerGB: last.serveCpuSPerGB, measuredBytesPerNode: last.wireBytesPerNode },
    };
    out(`\n== extrapolation to 1,000 nodes on 10 GbE (per-node numbers from N=${last.nodes}) ==`);
    const sizes: [string, number][] = [[`this run's image`, last.wireBytesPerNode], ['the lab deploy image', REAL_IMAGE_BYTES]];
    for (const [what, bytes] of sizes) {
      out(`${what}:`);
      for (const l of extrapolate({ nodes: 1000, bytesPerNode: bytes, linkGbps: 10, ...measured }).lines) out(`  ${l}`);
    }
  }
  const failures = results.flatMap((r) => r.records.filter((x) => !x.ok).map((x) => ({ nodes: r.run.nodes, ...x })));
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/fleet.json', JSON.stringify({
    generatedAt: new Date().toISOString(),
    host: hostFacts(),
    args,
    image: imageMeta,
    rows,
    runs: results.map((r) => ({ ...r.run, masterPeakRssMiB: r.rssMiB.master, records: r.records })),
  }, null, 2) + '\n');
  out('\nwrote reports/fleet.json');
  if (failures.length) {
    out(`\n${failures.length} node(s) failed:`);
    for (const f of failures) out(`  N=${f.nodes} ${f.name}: ${f.failedAt}: ${f.error}${f.daemonTail ? `\n    agent stderr: ${f.daemonTail.split('\n').slice(-3).join(' | ')}` : ''}`);
  }
  return failures.length ? 1 : 0;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exit(1);
});
