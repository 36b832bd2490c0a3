// The image server's ceiling in this run: the same file from the same master over
// the same bridge, fetched by curl into /dev/null from a node's namespace — one
// stream alone, then `parallel` streams at once — with no agent, disk or hashing.
// Each curl fetches the file several times over one connection (about 1 GB in
// all), so process start-up does not count, and reports its own transfer times.
import type { Runner } from '../../agent/core/runner.js';
import type { Ceiling } from './fleet-stats.js';
import { nsExec } from './fleet-net.js';

function curlArgv(url: string, times: number): string[] {
  const argv = ['curl', '-fsS', '--max-time', '600', '-w', '%{size_download} %{time_total}\\n'];
  for (let i = 0; i < times; i++) argv.push('-o', '/dev/null', url);
  return argv;
}

/** Bytes and seconds of `times` back-to-back transfers by one curl. */
async function stream(runner: Runner, ns: string, url: string, times: number): Promise<{ bytes: number; seconds: number }> {
  const r = await runner.run(nsExec(ns, curlArgv(url, times)), { timeoutMs: 660_000 });
  let bytes = 0;
  let seconds = 0;
  for (const line of r.stdout.trim().split('\n')) {
    const [b = 'NaN', s = 'NaN'] = line.trim().split(/\s+/);
    bytes += Number(b);
    seconds += Number(s);
  }
  return { bytes, seconds };
}

export async function measureCeiling(runner: Runner, ns: string, url: string, fileBytes: number, parallel: number): Promise<Ceiling> {
  const times = Math.max(2, Math.ceil(1e9 / fileBytes));
  const one = await stream(runner, ns, url, times);
  const each = Math.max(2, Math.ceil(times / parallel));
  const all = await Promise.all(Array.from({ length: parallel }, () => stream(runner, ns, url, each)));
  const bytes = all.reduce((s, x) => s + x.bytes, 0);
  // The streams start together; the slowest one's own transfer time is the window.
  const seconds = Math.max(...all.map((x) => x.seconds));
  return { singleMBps: one.bytes / 1e6 / one.seconds, parallelMBps: bytes / 1e6 / seconds, parallel };
}
