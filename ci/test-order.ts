// The order VM test files start in. The vm tier runs two files at once (one per
// core: a TCG guest keeps one core busy), and its wall time is set by how the
// files pack into the two lanes, so the longest start first (longest processing
// time first). Vitest's own order needs a results cache a clean CI checkout does
// not have, so the expected minutes are written here; a file not listed is short.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Minutes per VM file, measured from a clean-clone `npm test` (rounded up; 2026-11-30, after every lab
 * reboot became a fresh QEMU, on a machine ~1.6x slower under TCG than the one of the README's earlier
 * figures: only the order and the proportions matter here). The two lanes of that run: lab/e2e.test.ts
 * 32.6 min, the other files 34.9 min together.
 */
export const VM_MINUTES: Readonly<Record<string, number>> = {
  'lab/e2e.test.ts': 32.6, // 41 before the lab bridge answered iPXE's IPv6 and ProxyDHCP questions
  'lab/e2e-ceph.test.ts': 8.3,
  'lab/uefi.vm.test.ts': 4.9,
  'lab/classic/installer-boot.vm.test.ts': 4.7,
  'properties/lab-provision.property.test.ts': 3.5,
  'lab/disk-faults.vm.test.ts': 3.3,
  'agent/partition/fuel-agent-keep.vm.test.ts': 2.2,
  'agent/partition/lvm-md.vm.test.ts': 2,
  'lab/master/deploy-services.test.ts': 1.8,
  'lab/kept-lab.vm.test.ts': 1.1,
  'lab/vm/run-in-vm.test.ts': 1,
  'lab/vm/qemu.test.ts': 0.9,
  'agent/host/ramdisk/ramdisk-boot.test.ts': 0.7,
  'lab/master/master-net.test.ts': 0.7,
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
