import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildPlan } from '../agent/plan/build.js';
import { parseProvisionData } from '../agent/schema/load.js';
import { validCaseArb } from './generators.js';
import { leftoverArgv, leftoversArb, leftoverTarget, onNodeDevices } from './stale-state.js';
import { retargetToVm, vmInventory } from '../lab/scenario.js';
import type { Inventory } from '../agent/inventory/types.js';
import type { Plan } from '../agent/plan/types.js';

const planArb = validCaseArb({ sizing: 'vm', maxDisks: 3, kinds: ['sata', 'nvme'] }).map((c) => buildPlan(parseProvisionData(c.data), c.inventory));
const withLeftovers = planArb.chain((plan) => leftoversArb(plan).map((ls) => ({ plan, ls })));

describe('stale-state leftovers, generated from the next run\'s plan', () => {
  it('name only what the plan will use, damage no device twice, and come in an order the node can run', () => {
    fc.assert(
      fc.property(withLeftovers, ({ plan, ls }) => {
        const mds = new Map(plan.mds.map((m) => [m.device, m.members]));
        const devices = new Set(plan.fss.map((f) => f.device));
        for (const l of ls) {
          if (l.kind === 'md-member-only') expect(mds.get(l.md)).toContain(l.zeroed);
          if (l.kind === 'vg-missing-pv') expect(plan.vgs.find((v) => v.name === l.vg)?.pvs).toContain(l.pv);
          if (l.kind === 'fs-wiped' || l.kind === 'half-image') expect(devices.has(l.device)).toBe(true);
        }
        const argv = leftoverArgv(ls, '/tmp/half.img').map((a) => a.join(' '));
        const deact = argv.indexOf('vgchange --activate n');
        // Writes into LVs while they are active; PV labels and md superblocks after.
        argv.forEach((a, i) => {
          if (a.startsWith('dd ') || (a.startsWith('wipefs') && ls.some((l) => l.kind === 'fs-wiped' && a.endsWith(` ${l.device}`)))) expect(i).toBeLessThan(deact);
          if (a.startsWith('mdadm --zero-superblock')) expect(i).toBeGreaterThan(argv.indexOf('mdadm --stop --scan'));
        });
        expect(argv.at(-1)).toBe('sync');
      }),
      { numRuns: 200 },
    );
  });

  it('every kind turns up across generated plans (RAID /boot, multi-PV VGs, filesystems)', () => {
    const kinds = new Set<string>();
    for (const { ls } of fc.sample(withLeftovers, { numRuns: 300, seed: 7 })) for (const l of ls) kinds.add(l.kind);
    expect([...kinds].sort()).toEqual(['fs-wiped', 'half-image', 'md-member-only', 'vg-missing-pv']);
  });

  it("land on the node's own device names when its kernel named the SATA disks the other way round", () => {
    const MiB = 2 ** 20;
    const twoSata = validCaseArb({ sizing: 'vm', minDisks: 2, maxDisks: 2, kinds: ['sata'] });
    fc.assert(
      fc.property(twoSata.chain((c) => {
        const disks = c.inventory.disks.map((d, i) => ({ sizeMiB: Math.floor(d.size / MiB), bus: 'sata' as const, logicalBlockSize: d.logicalSectorSize === 4096 ? (4096 as const) : (512 as const), serial: `prop-${i}` }));
        const data = parseProvisionData(retargetToVm(c.data, disks));
        const host = buildPlan(data, vmInventory(disks));
        // This boot the kernel probed the second port first: names swapped, links stay with their disks.
        const inv = vmInventory(disks);
        const swapped: Inventory = { ...inv, disks: inv.disks.map((d, i) => ({ ...d, name: inv.disks[1 - i]!.name, path: inv.disks[1 - i]!.path })) };
        const node = buildPlan(data, swapped);
        return leftoversArb(host).map((ls) => ({ host, node, ls }));
      }), ({ host, node, ls }) => {
        const diskOf = (plan: Plan, dev: string) => plan.parteds.find((d) => d.device === dev || d.partitions.some((p) => p.device === dev));
        const moved = onNodeDevices(ls, host, node);
        ls.forEach((l, i) => {
          const from = diskOf(host, leftoverTarget(l));
          if (!from) return expect(leftoverTarget(moved[i]!)).toBe(leftoverTarget(l)); // an LV or array: named the same on every boot
          expect(diskOf(node, leftoverTarget(moved[i]!))?.matchedOn).toBe(from.matchedOn);
        });
      }),
      { numRuns: 100 },
    );
  });
});
