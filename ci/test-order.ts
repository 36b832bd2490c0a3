// The order VM test files start in. The vm tier runs two files at once (one per
// core: a TCG guest keeps one core busy), and its wall time is set by how the
// files pack into the two lanes, so the longest start first (longest processing
// time first). Vitest's own order needs a results cache a clean CI checkout does
// not have, so the expected minutes are written here; a file not listed is short.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Minutes per VM file, measured from a clean-clone `npm test` (2026-11-30, evening, on a machine ~1.6x
 * slower under TCG than the one of the README's earlier figures: only the order and the proportions
 * matter here). The two lanes of that run: lab/e2e.test.ts 28.6 min, the other files 30.3 min together.
 */
export const VM_MINUTES: Readonly<Record<string, number>> = {
  'lab/e2e.test.ts': 28.6, // 41 before the lab bridge answered iPXE's IPv6 and ProxyDHCP questions
  'lab/e2e-ceph.test.ts': 8.1,
  'lab/uefi.vm.test.ts': 3.9,
  'lab/classic/installer-boot.vm.test.ts': 3.7,
  'properties/lab-provision.property.test.ts': 2.5,
  'lab/disk-faults.vm.test.ts': 3,
  'agent/partition/fuel-agent-keep.vm.test.ts': 2,
  'agent/partition/lvm-md.vm.test.ts': 1.8,
  'lab/master/deploy-services.test.ts': 1.5,
  'lab/kept-lab.vm.test.ts': 0.9,
  'lab/vm/run-in-vm.test.ts': 0.8,
  'lab/vm/qemu.test.ts': 0.7,
  'agent/host/ramdisk/ramdisk-boot.test.ts': 0.7,
  'lab/master/master-net.test.ts': 0.6,
};

export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const root = this.ctx.config.root;
    // Keep the projects' order (unit, system, vm); only reorder inside the vm tier.
    const rank = new Map<string, number>();
    base.forEach((f, i) => { if (!rank.has(f.project.name)) rank.set(f.project.name, i); });
    const minutes = (f: TestSpecification): number => (f.project.name === 'vm' ? VM_MINUTES[relative(root, f.moduleId)] ?? 0.5 : 0);
    return base
      .map((f, i) => ({ f, i }))
      .sort((a, b) => (rank.get(a.f.project.name) ?? 0) - (rank.get(b.f.project.name) ?? 0) || minutes(b.f) - minutes(a.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
