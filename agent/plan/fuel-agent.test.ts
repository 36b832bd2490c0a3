// Differential test: on every case fuel-agent's own Nailgun driver was run on
// (fixtures/fuel-agent-plans: its samples and 200 generated inputs), our plan is
// fuel-agent's partition scheme, exactly, once the differences the README lists
// are projected out (agent/testing/fuel-agent-shape.ts). Where only one side
// refuses the input, the case must fall under a listed difference too.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ForgeError, ForgeErrors } from '../core/errors.js';
import { parseInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/types.js';
import { parseProvisionData } from '../schema/load.js';
import { normaliseTheirs, ourScheme, type FuelScheme } from '../testing/fuel-agent-shape.js';
import { buildPlan } from './build.js';
import type { Plan } from './types.js';

const ROOT = new URL('../../fixtures/fuel-agent-plans/', import.meta.url).pathname;
const CASES = ['fuel-samples', 'generated'].flatMap((g) =>
  readdirSync(`${ROOT}${g}`)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((n) => `${g}/${n}`),
);
const read = (c: string, f: string) => JSON.parse(readFileSync(`${ROOT}${c}/${f}`, 'utf8'));

type Ours = { plan: Plan } | { error: ForgeError };
function ours(c: string): { ours: Ours; inventory: Inventory } {
  const inventory = parseInventory(read(c, 'inventory.json'));
  try {
    return { ours: { plan: buildPlan(parseProvisionData(read(c, 'provision.json')), inventory) }, inventory };
  } catch (e) {
    if (e instanceof ForgeError) return { ours: { error: e }, inventory };
    throw e;
  }
}
const codes = (e: ForgeError) => (e instanceof ForgeErrors ? e.errors : [e]).map((x) => x.code);

/**
 * Inputs only one side refuses, each a README difference:
 * - fits: we refuse a layout that does not fit its disk; fuel-agent plans partitions past the disk's end (parted fails later, on the node).
 * - boot: fuel-agent refuses some /boot layouts we plan: /boot of size 0 where / can boot, a bootable disk offering only /boot, /boot on NVMe next to an ESP.
 * - root-vg: fuel-agent makes no configdrive (and fails) when / is on an LV of a VG not named "os"; we follow whichever VG holds /.
 */
function oneSided(o: Ours, theirs: FuelScheme | { error: string }, inventory: Inventory): string | undefined {
  if ('error' in o && !('error' in theirs)) {
    const overflows = theirs.parteds.some((d) => {
      const disk = inventory.disks.find((x) => x.path === d.device);
      return disk !== undefined && d.partitions.some((p) => p.end > Math.floor(disk.size / 2 ** 20) - 1);
    });
    if (codes(o.error).every((x) => x === 'SIZE_DOES_NOT_FIT') && overflows) return 'fits';
    return undefined;
  }
  if ('plan' in o && 'error' in theirs) {
    if (theirs.error.includes('/boot partition has not been created')) return 'boot';
    const rootVg = o.plan.lvs.find((l) => o.plan.fss.some((f) => f.mount === '/' && f.device === l.device))?.vg;
    if (theirs.error.includes('configdrive') && rootVg !== undefined && rootVg !== 'os') return 'root-vg';
    return undefined;
  }
  return undefined;
}

describe('our plan is fuel-agent\'s scheme, but for the documented differences', () => {
  it.each(CASES)('%s', (c) => {
    const theirs = read(c, 'fuel-agent.json') as FuelScheme | { error: string };
    const { ours: o, inventory } = ours(c);
    if ('error' in o && 'error' in theirs) return; // both refuse
    if ('error' in o || 'error' in theirs) {
      const why = oneSided(o, theirs, inventory);
      expect(why, `${c}: ours ${'error' in o ? `refuses: ${o.error.message}` : 'plans'}; fuel-agent ${'error' in theirs ? `refuses: ${theirs.error}` : 'plans'}`).toBeDefined();
      return;
    }
    expect(ourScheme(o.plan), c).toEqual(normaliseTheirs(theirs));
  });
});
