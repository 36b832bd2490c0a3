// A RunReport read back from a shard's results.json: the merge's input is a file
// another machine wrote, so it is parsed, not cast. The schema must describe
// exactly the model (lab/report/model.ts): the checks at the bottom fail to
// compile when the two drift apart.
import { z } from 'zod';
import { planSchema } from '../../agent/plan/plan-schema.js';
import type { HostDiskView } from '../verify/host-disk.js';
import type { Check } from '../verify/first-boot.js';
import type { StageRecord } from '../stages.js';
import { REPORT_VERSION, type NodeReport, type RunReport } from './model.js';

export const checkSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string() });

export const stageRecordSchema = z.object({
  stage: z.string(),
  ok: z.boolean(),
  startedAt: z.string().exactOptional(),
  ms: z.number(),
  detail: z.string().exactOptional(),
});

// JSON drops an undefined label; the view keeps the key.
const hostDiskViewSchema = z
  .object({
    label: z.string().optional(),
    sectorSize: z.number(),
    partitions: z.array(z.object({ node: z.string(), start: z.number(), size: z.number(), type: z.string(), name: z.string().exactOptional() })),
  })
  .transform((v): HostDiskView => ({ ...v, label: v.label }));

const digests = z.object({ md5: z.string().exactOptional(), sha256: z.string().exactOptional() });

export const errorSchema = z.object({ code: z.string().exactOptional(), message: z.string() });

const nodeReportSchema = z.object({
  name: z.string(),
  scenario: z.string(),
  method: z.enum(['image', 'classic']).exactOptional(),
  plan: planSchema.exactOptional(),
  // An undefined entry (a disk the host check could not read) is null in JSON.
  found: z.array(z.union([hostDiskViewSchema, z.null().transform(() => undefined)])).exactOptional(),
  checks: z.array(checkSchema),
  images: z.array(z.object({ target: z.string(), expected: digests, found: digests.exactOptional() })),
  console: z.string().exactOptional(),
  agentLog: z.array(z.string()).exactOptional(),
  error: errorSchema.exactOptional(),
  ok: z.boolean(),
});

export const runReportSchema = z.object({
  version: z.literal(REPORT_VERSION),
  kind: z.string(),
  title: z.string(),
  startedAt: z.string(),
  rerun: z.string(),
  shard: z.string().exactOptional(),
  stages: z.array(stageRecordSchema),
  nodes: z.array(nodeReportSchema),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameCheck: Same<z.output<typeof checkSchema>, Check> = true;
const sameStage: Same<z.output<typeof stageRecordSchema>, StageRecord> = true;
const sameNode: Same<z.output<typeof nodeReportSchema>, NodeReport> = true;
const sameRun: Same<z.output<typeof runReportSchema>, RunReport> = true;
void [sameCheck, sameStage, sameNode, sameRun];
