// Where `provision partition` and `provision verify` get their plan: a plan JSON
// (`provision plan --json` output, for the lab and field reproduction), or the
// provision data planned against the live disks or an inventory file.
import type { Ctx } from '../core/context.js';
import { oneLineText } from '../core/display.js';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { inputLabel, readInputFile } from '../core/read-input.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { buildPlan } from '../plan/build.js';
import { planSoundnessProblems } from '../plan/invariants.js';
import { planSchema } from '../plan/plan-schema.js';
import { PLAN_VERSION, type Plan } from '../plan/types.js';
import { issuesToErrors } from '../schema/issues.js';
import { DEFAULT_INPUT, loadProvisionData } from '../schema/load.js';

export interface PlanSource {
  input?: string | undefined;
  inventory?: string | undefined;
  plan?: string | undefined;
}

export async function loadPlanFile(path: string): Promise<Plan> {
  const text = await readInputFile(path, { what: '--plan' });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    // V8's message quotes a piece of the text: kept to one line.
    const why = oneLineText(e instanceof Error ? e.message : String(e));
    throw new ForgeError('PLAN_INVALID', `${inputLabel(path, '--plan')}: not valid JSON: ${why}`, { field: '--plan' });
  }
  return parsePlan(doc, inputLabel(path, '--plan'));
}

/**
 * A plan document → Plan, or PLAN_INVALID (exit 2) naming each bad field: the
 * schema first (types, device paths, names, labels), then the soundness
 * invariants (no overlapping or out-of-disk partition, nothing unplanned
 * referenced). Nothing is written from a plan that did not pass both.
 */
export function parsePlan(doc: unknown, label = 'plan'): Plan {
  const version = doc !== null && typeof doc === 'object' ? (doc as { version?: unknown }).version : undefined;
  if (version !== PLAN_VERSION) {
    throw new ForgeError('PLAN_INVALID', `${label}: not a version ${PLAN_VERSION} plan (provision plan --json)`, { field: '--plan' });
  }
  const r = planSchema.safeParse(doc);
  if (!r.success) throw issuesToErrors('PLAN_INVALID', r.error.issues, doc, `${label}: `);
  const problems = planSoundnessProblems(r.data);
  if (problems.length) {
    throw new ForgeErrors(
      'PLAN_INVALID',
      problems.map((p) => new ForgeError('PLAN_INVALID', `${label}: ${p.field}: ${p.message}`, { field: p.field })),
    );
  }
  return r.data;
}

export async function resolvePlan(ctx: Ctx, src: PlanSource): Promise<{ plan: Plan; inventory?: Inventory }> {
  if (src.plan) {
    const plan = await loadPlanFile(src.plan);
    return src.inventory ? { plan, inventory: await loadInventory(src.inventory) } : { plan };
  }
  const data = await loadProvisionData(src.input ?? DEFAULT_INPUT);
  const inventory = src.inventory ? await loadInventory(src.inventory) : await discoverInventory(ctx);
  return { plan: buildPlan(data, inventory), inventory };
}
