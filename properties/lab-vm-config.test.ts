// Property: every VM-sized node config the lab can generate maps to a consistent
// QEMU command line — one drive and one device per disk, unique MACs, PXE first
// and the first 512-byte-sector disk second. Seeded and replayable:
//   FORGE_PROP_SEED=<seed> FORGE_PROP_RUNS=<n> npx vitest run properties/lab-vm-config.test.ts
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { qemuArgv, labMac, type VmSpec } from '../lab/vm/qemu.js';

const seed = Number(process.env['FORGE_PROP_SEED'] ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env['FORGE_PROP_RUNS'] ?? 50);

export const vmSpecArb: fc.Arbitrary<VmSpec> = fc.record({
  nodeIndex: fc.integer({ min: 0, max: 255 }),
  disks: fc.array(fc.record({
    sizeMiB: fc.integer({ min: 64, max: 16384 }),
    bus: fc.constantFrom('virtio' as const, 'nvme' as const, 'sata' as const),
    logicalBlockSize: fc.constantFrom(512 as const, 4096 as const),
  }), { minLength: 1, maxLength: 6 }),
  nics: fc.integer({ min: 1, max: 3 }),
}).map(({ nodeIndex, disks, nics }) => ({
  name: `node-${nodeIndex}`,
  disks,
  nics: Array.from({ length: nics }, (_, i) => ({ mac: labMac(nodeIndex, i), netdev: { kind: 'user' as const, tftpRoot: '/t', bootfile: 'boot.ipxe' } })),
  boot: { kind: 'pxe' as const },
}));

describe('lab VM configs (property)', () => {
  it(`map to consistent qemu argv (seed ${seed}, ${numRuns} runs)`, () => {
    fc.assert(fc.property(vmSpecArb, (spec) => {
      const files = { dir: '/v', serialLog: '/v/s', qmpSocket: '/v/q', disks: spec.disks.map((_, i) => `/v/d${i}`) };
      const a = qemuArgv(spec, files);
      const drives = a.filter((_, i) => a[i - 1] === '-drive');
      const devices = a.filter((_, i) => a[i - 1] === '-device');
      expect(drives).toHaveLength(spec.disks.length);
      expect(devices.filter((d) => /drive=d\d+/.test(d))).toHaveLength(spec.disks.length);
      expect(new Set(devices.filter((d) => d.startsWith('virtio-net')).map((d) => /mac=([^,]+)/.exec(d)?.[1])).size).toBe(spec.nics.length);
      expect(devices.find((d) => d.includes('bootindex=0'))).toMatch(/^virtio-net-pci,netdev=n0/);
      // The firmware boots the first 512-byte-sector disk after PXE (legacy BIOS cannot boot 4Kn).
      const bootDisk = spec.disks.findIndex((d) => d.logicalBlockSize === 512);
      expect(devices.find((d) => d.includes('bootindex=1'))).toMatch(new RegExp(`drive=d${bootDisk < 0 ? 0 : bootDisk},`));
      spec.disks.forEach((d, i) => {
        const dev = devices.find((x) => x.includes(`drive=d${i},`)) ?? '';
        expect(dev.includes('logical_block_size=4096')).toBe(d.logicalBlockSize === 4096);
      });
    }), { seed, numRuns, verbose: 1 });
  });
});
