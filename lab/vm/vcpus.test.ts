import { describe, expect, it } from 'vitest';
import { DEFAULT_LAB_VCPUS, labVcpus } from './vcpus.js';

describe('labVcpus', () => {
  it('gives two unless FORGE_LAB_VCPUS says otherwise', () => {
    expect(labVcpus({})).toBe(DEFAULT_LAB_VCPUS);
    expect(labVcpus({ FORGE_LAB_VCPUS: '' })).toBe(2);
    expect(labVcpus({ FORGE_LAB_VCPUS: '1' })).toBe(1);
    expect(labVcpus({ FORGE_LAB_VCPUS: '4' })).toBe(4);
  });
  it('refuses what is not a vCPU count, naming the variable', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '17']) {
      expect(() => labVcpus({ FORGE_LAB_VCPUS: bad })).toThrow(expect.objectContaining({ code: 'USAGE', field: 'FORGE_LAB_VCPUS' }));
    }
  });
});
