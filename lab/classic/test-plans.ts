// Plans the classic tests render preseeds from: a fixture scenario with its
// inventory, and fuel-agent's sample scaled to the lab's VM disks.
import { buildPlan } from '../../agent/plan/build.js';
import { loadScenario, type ScenarioName } from '../../agent/plan/fixtures.js';
import type { Plan } from '../../agent/plan/types.js';
import { parseProvisionData } from '../../agent/schema/load.js';
import { fuelSampleScenario, vmInventory } from '../scenario.js';

export const scenarioPlan = async (name: ScenarioName): Promise<Plan> => {
  const { data, inventory } = await loadScenario(name);
  return buildPlan(data, inventory);
};

export const fuelSamplePlan = (): Plan => {
  const s = fuelSampleScenario();
  return buildPlan(parseProvisionData(s.doc), vmInventory(s.disks));
};
