import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goneUnder } from './device-gone.js';

const root = mkdtempSync(join(tmpdir(), 'forge-gone-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fake /sys/class/block and /dev: dm-0 on vda4 and vdb4, vda3 plain. */
function tree(present: string[]): { sys: string; dev: string } {
  const base = mkdtempSync(join(root, 't-'));
  const sys = join(base, 'sys');
  const dev = join(base, 'dev');
  mkdirSync(join(dev, 'mapper'), { recursive: true });
  const real = join(base, 'devices');
  for (const n of ['vda3', 'vda4', 'vdb4', 'dm-0']) {
    mkdirSync(join(real, n), { recursive: true });
    writeFileSync(join(dev, n), '');
  }
  mkdirSync(sys);
  for (const n of present) symlinkSync(join(real, n), join(sys, n));
  mkdirSync(join(real, 'dm-0', 'slaves'));
  // The kernel's slaves/ links point at the members' device directories via /sys/class/block.
  for (const s of ['vda4', 'vdb4']) symlinkSync(join(sys, s), join(real, 'dm-0', 'slaves', s));
  symlinkSync(join(dev, 'dm-0'), join(dev, 'mapper', 'os-root'));
  return { sys, dev };
}

describe('goneUnder (is the write target still there?)', () => {
  it('nothing gone while every layer is present', () => {
    const t = tree(['vda3', 'vda4', 'vdb4', 'dm-0']);
    expect(goneUnder(join(t.dev, 'vda3'), t.sys)).toBeUndefined();
    expect(goneUnder(join(t.dev, 'mapper', 'os-root'), t.sys)).toBeUndefined();
  });

  it('a pulled partition names itself; an LV names the member that vanished under it', () => {
    const t = tree(['vda4', 'dm-0']);
    expect(goneUnder(join(t.dev, 'vda3'), t.sys)).toBe('vda3');
    expect(goneUnder(join(t.dev, 'mapper', 'os-root'), t.sys)).toBe('vdb4');
  });

  it('a device node that no longer resolves is gone too', () => {
    const t = tree([]);
    expect(goneUnder(join(t.dev, 'nvme0n1p2'), t.sys)).toBe(join(t.dev, 'nvme0n1p2'));
  });
});
