// What an e2e file checks of its run report opened in Chromium: each node's disks
// drawn as planned and as found (no difference flagged) and every verdict cell as
// the record says. Shared by the e2e files; vitest's expect, so test-only.
import { expect } from 'vitest';
import type { ReportInspection } from '../report/browser.js';
import type { NodeRecord } from '../report/record.js';

export function expectDrawnAsRecorded(seen: ReportInspection, records: readonly NodeRecord[]): void {
  for (const rec of records) {
    const r = rec.report;
    const drawn = seen.nodes.find((x) => x.name === r.name);
    expect(drawn, r.name).toBeDefined();
    const planned = (r.plan?.parteds ?? []).flatMap((d) => d.partitions.map((p) => [p.device, p.size]));
    expect(planned.length).toBeGreaterThan(0);
    expect(drawn?.partitions.filter((p) => p.side === 'planned').map((p) => [p.part, p.sizeMiB])).toEqual(planned);
    // What the host read after power-off is drawn too, and it matches the plan: nothing flagged.
    const found = (r.found ?? []).flatMap((v) => v?.partitions ?? []);
    expect(found.length).toBeGreaterThan(0);
    expect(drawn?.partitions.filter((p) => p.side === 'found')).toHaveLength(found.length);
    expect(drawn?.partitions.filter((p) => p.diff)).toEqual([]);
    expect(drawn?.checks).toEqual(r.checks.map((c) => ({ name: c.name, verdict: c.ok ? 'PASS' : 'FAIL' })));
  }
}
