// A node's report filled while its run goes: what the report shows of a node
// that failed half-way is whatever was known when it stopped (plan, agent lines,
// console tail), so the recorder is fed step by step, not built at the end.
import { computedDigests } from '../../agent/image/hashers.js';
import { isForgeError } from '../../agent/core/errors.js';
import type { Check } from '../verify/first-boot.js';
import type { HostDiskView } from '../verify/host-disk.js';
import type { StageRecord } from '../stages.js';
import { REPORT_VERSION, type NodeReport, type RunReport } from './model.js';

/** Agent lines kept per node: enough for a failed step's story, bounded for a long run. */
const KEEP_LINES = 400;
/** Lines of a failed node's agent log shown in the report. */
const SHOW_LINES = 120;
/** Serial console characters kept (the tail is what tells where a boot stopped). */
const CONSOLE_CHARS = 16_000;

export class NodeRecord {
  readonly report: NodeReport;
  #lines: string[] = [];

  constructor(name: string, scenario: string, method?: 'image' | 'classic') {
    this.report = { name, scenario, ...(method ? { method } : {}), checks: [], images: [], ok: false };
  }

  /** One line the agent shipped while it ran. */
  agentLine(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > KEEP_LINES) this.#lines.splice(0, this.#lines.length - KEEP_LINES);
  }

  /** The image `/` should receive: its published raw digests. */
  expectImage(meta: { raw_md5: string; raw_sha256: string }): void {
    this.report.images = [{ target: '/', expected: { md5: meta.raw_md5, sha256: meta.raw_sha256 } }];
  }

  /** What the agent's run report says it wrote on `/` (nothing when it stopped before). */
  imageWritten(report: { images?: readonly { md5?: string; sha256?: string }[] } | undefined): void {
    const img = report?.images?.[0];
    const digests = this.report.images[0];
    // The agent computes the strongest digest the metadata gives (sha256 here), not every one.
    if (img && digests) digests.found = computedDigests({ md5: img.md5, sha256: img.sha256 });
  }

  /** The host's reading of disk `index` after power-off. */
  diskFound(index: number, view: HostDiskView): void {
    (this.report.found ??= [])[index] = view;
  }

  addChecks(checks: readonly Check[]): void {
    this.report.checks.push(...checks);
  }

  console(text: string | undefined): void {
    if (text) this.report.console = text.slice(-CONSOLE_CHARS);
  }

  /** The run stopped: keep the error, the agent's last lines and the console's tail. */
  fail(e: unknown, consoleTail?: string): void {
    this.report.error = isForgeError(e) ? { code: e.code, message: e.message } : { message: e instanceof Error ? e.message : String(e) };
    this.report.agentLog = this.#lines.slice(-SHOW_LINES);
    this.console(consoleTail);
    this.report.ok = false;
  }

  /** The run went to its end: the node passed when every check did. */
  finish(consoleTail?: string): NodeReport {
    this.console(consoleTail);
    this.report.ok = !this.report.error && this.report.checks.length > 0 && this.report.checks.every((c) => c.ok);
    if (!this.report.ok && !this.report.agentLog) this.report.agentLog = this.#lines.slice(-SHOW_LINES);
    return this.report;
  }
}

/** The whole run's report from its stages and node records. */
export function runReportOf(o: { kind: string; title: string; rerun: string; startedAt: Date; stages: StageRecord[]; nodes: NodeRecord[]; shard?: string }): RunReport {
  return {
    version: REPORT_VERSION,
    kind: o.kind,
    title: o.title,
    startedAt: o.startedAt.toISOString(),
    rerun: o.rerun,
    ...(o.shard ? { shard: o.shard } : {}),
    stages: o.stages,
    nodes: o.nodes.map((n) => n.report),
  };
}
