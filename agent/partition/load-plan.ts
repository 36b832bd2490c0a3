// Where `provision partition` and `provision verify` get their plan: a plan JSON
// (`provision plan --json` output, for the lab and field reproduction), or the
// provision data planned against the live disks or an inventory file.
import type { Ctx } from '../core/context.js';
import { oneLineText } from '../core/display.js';
import { ForgeError } from '../core/errors.js';
import { inputLabel, readInputFile } from '../core/read-input.js';
import { discoverInventory } from '../inventory/discover.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { buildPlan } from '../plan/build.js';
import { PLAN_VERSION, type Plan } from '../plan/types.js';
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
  const plan = doc as Partial<Plan> | null;
  if (plan === null || typeof plan !== 'object' || plan.version !== PLAN_VERSION || !Array.isArray(plan.parteds) || !Array.isArray(plan.fss)) {
    throw new ForgeError('PLAN_INVALID', `${inputLabel(path, '--plan')}: not a version ${PLAN_VERSION} plan (provision plan --json)`, { field: '--plan' });
  }
  return plan as Plan;
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
