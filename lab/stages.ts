// Stage timing for the orchestrator and the summary: each stage has a name, its
// own timeout and a measured duration, so reports show where time goes.
import { ForgeError } from '../agent/core/errors.js';

export interface StageRecord {
  stage: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export class Stages {
  readonly records: StageRecord[] = [];
  constructor(private readonly onEvent: (line: string) => void = () => undefined) {}

  async run<T>(stage: string, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const t0 = Date.now();
    const ac = new AbortController();
    this.onEvent(`▶ ${stage}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      const v = await Promise.race([
        fn(ac.signal),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            ac.abort();
            reject(new ForgeError('LAB_TIMEOUT', `stage ${stage} timed out after ${timeoutMs} ms`, { details: { stage } }));
          }, timeoutMs);
        }),
      ]);
      const ms = Date.now() - t0;
      this.records.push({ stage, ok: true, ms });
      this.onEvent(`✔ ${stage} (${(ms / 1000).toFixed(1)} s)`);
      return v;
    } catch (e) {
      const ms = Date.now() - t0;
      this.records.push({ stage, ok: false, ms, detail: e instanceof Error ? e.message : String(e) });
      this.onEvent(`✘ ${stage} (${(ms / 1000).toFixed(1)} s): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  table(): string {
    return this.records.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.stage.padEnd(28)} ${(r.ms / 1000).toFixed(1).padStart(7)} s${r.detail ? `  ${r.detail.split('\n')[0]}` : ''}`).join('\n');
  }
}
