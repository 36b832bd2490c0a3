// A matrix run's directory: results.json (verdicts, checks, times), report.json +
// report.html (lab/report/render.ts), junit.xml for CI and stages.json (stage
// timings). A shard and a merge write the same files, so a merged directory looks
// like one unsharded run's, and a merge reads results.json + report.json back.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ForgeError } from '../../agent/core/errors.js';
import { redactDeep } from '../../agent/core/redact.js';
import { writeRunReport } from '../report/render.js';
import { parseMatrixResults, toJUnit, type MatrixResults } from './results.js';

export const RESULTS_FILE = 'results.json';
const REPORT_BASE = 'report';

export interface MatrixOutputs {
  results: string;
  report: string;
  html: string;
  junit: string;
  stages: string;
}

/** Writes the files into `dir` (created); every string redacted, as the report is. */
export function writeMatrixOutputs(dir: string, results: MatrixResults): MatrixOutputs {
  mkdirSync(dir, { recursive: true });
  const r = redactDeep(results);
  const { report, ...rest } = r;
  const written = writeRunReport(report, dir, REPORT_BASE);
  const paths = { results: join(dir, RESULTS_FILE), report: written.json, html: written.html, junit: join(dir, 'junit.xml'), stages: join(dir, 'stages.json') };
  writeFileSync(paths.results, JSON.stringify(rest, null, 2) + '\n');
  writeFileSync(paths.junit, toJUnit(r));
  writeFileSync(paths.stages, JSON.stringify(report.stages, null, 2) + '\n');
  return paths;
}

function readText(dir: string, name: string): { text: string; source: string } {
  const source = join(dir, name);
  try {
    return { text: readFileSync(source, 'utf8'), source };
  } catch (e) {
    throw new ForgeError('INPUT_UNREADABLE', `${dir}: no ${name} (not a matrix run's directory, or the run did not finish)`, { field: source, cause: e });
  }
}

/** A run directory's results.json + report.json, parsed. */
export function readMatrixResults(dir: string): MatrixResults {
  return parseMatrixResults({ results: readText(dir, RESULTS_FILE), report: readText(dir, `${REPORT_BASE}.json`) });
}
