// What a failing lab property case leaves for whoever reads the CI log: the case
// as JSON, the one command that replays exactly it, and the run's HTML report
// (the failing layout drawn, the step that failed, the agent's lines, the console).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeRecord, runReportOf } from '../lab/report/record.js';
import { writeRunReport } from '../lab/report/render.js';
import type { StageRecord } from '../lab/stages.js';

export const LAB_PROPERTY_FILE = 'properties/lab-provision.property.test.ts';

export interface LabPropertyFailure {
  seed: number;
  /** fast-check's counterexample path. */
  path: string | undefined;
  counterexample: unknown;
  record: NodeRecord;
  stages: StageRecord[];
  startedAt: Date;
}

export function replayCommand(seed: number, path: string | undefined): string {
  return `FORGE_PROP_SEED=${seed} FORGE_PROP_PATH=${path ?? ''} FORGE_LAB_PROP_RUNS=1 npx vitest run ${LAB_PROPERTY_FILE}`;
}

/** Writes `<dir>/lab-prop-failure-<seed>.{json,html}` (+ the report's JSON) and returns the paths and the replay command. */
export function writeLabPropertyFailure(f: LabPropertyFailure, dir = 'reports'): { caseFile: string; html: string; replay: string } {
  mkdirSync(dir, { recursive: true });
  const caseFile = join(dir, `lab-prop-failure-${f.seed}.json`);
  writeFileSync(caseFile, JSON.stringify(f.counterexample ?? null, null, 2) + '\n');
  const replay = replayCommand(f.seed, f.path);
  const report = runReportOf({ kind: 'property', title: `lab property failure (seed ${f.seed})`, rerun: replay, startedAt: f.startedAt, stages: f.stages, nodes: [f.record] });
  return { caseFile, html: writeRunReport(report, dir, `lab-prop-failure-${f.seed}-report`).html, replay };
}
