import { describe, expect, it } from 'vitest';
import { methodTable, methodTimes, ratioLine } from './method-table.js';

const rec = (stage: string, s: number, ok = true) => ({ stage, ok, ms: s * 1000 });

describe('provisioning benchmark table', () => {
  const image = methodTimes('image', 'node-1', [
    rec('node-1: cobbler register+sync', 1), rec('node-1: power on', 1), rec('node-1: PXE boot + discovery', 58),
    rec('node-1: upload provision.json', 2), rec('node-1: provision', 100), rec('node-1: provision verify (node)', 8),
    rec('node-1: disable netboot + sync', 1), rec('node-1: reboot', 1), rec('node-1: first boot (cloud-init)', 170),
    rec('node-1: ssh root@10.97.3.100', 3), rec('node-1: mco ping 1', 10), rec('node-1: deployment (puppet apply)', 30),
    rec('node-1: power off', 20), rec('node-2: provision', 999),
  ]);
  const classic = methodTimes('classic', 'node-2', [
    rec('node-2: PXE boot + discovery', 60), rec('node-2: pre_provision (installer files, archive check)', 5),
    rec('node-2: cobbler system → debian12-x86_64 + sync', 1), rec('node-2: reboot into the installer', 1),
    rec('node-2: install (debian-installer)', 1500), rec('node-2: first boot (cloud-init)', 120), rec('node-2: ssh root@x', 2),
  ]);

  it('folds a node’s stages into the shared phases and ignores other nodes and after-ready stages', () => {
    expect(image.phases).toEqual({ pxe: 60, install: 110, reboot: 2, firstBoot: 170, deploy: 43 });
    expect(image.total).toBe(385);
    expect(image.other).toEqual(['power off']);
    expect(classic.phases.install).toBe(1506);
    expect(classic.phases.reboot).toBe(1);
    expect(classic.total).toBe(1689);
  });

  it('prints the ratio of totals, or why there is none', () => {
    expect(ratioLine(classic, image)).toBe(`ratio classic/image: ${(1689 / 385).toFixed(2)}`);
    expect(ratioLine('classic refused: the archive lacks 50 components', image)).toBe('ratio classic/image: n/a (classic refused: the archive lacks 50 components)');
    const failed = methodTimes('image', 'node-1', [rec('node-1: provision', 5, false)]);
    expect(ratioLine(classic, failed)).toBe('ratio classic/image: n/a (image failed)');
    const t = methodTable([image, { method: 'classic', error: 'refused\nmore' }]).split('\n');
    expect(t[0]).toMatch(/^method +PXE +install +reboot +first boot +deploy +total$/);
    expect(t[1]).toMatch(/^image +60\.0 s +110\.0 s +2\.0 s +170\.0 s +43\.0 s +385\.0 s$/);
    expect(t[2]).toBe('classic    refused');
  });
});
