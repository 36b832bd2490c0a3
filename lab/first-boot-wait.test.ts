// The orchestrator's wait for the first-boot call-back stops, naming who refused,
// when the node's console shows a Secure Boot refusal after the reboot — and ignores
// one from an earlier boot.
import { describe, expect, it } from 'vitest';
import { ForgeError } from '../agent/core/errors.js';
import type { MockNode } from './mocks/nailgun.js';
import { waitForFirstBoot, type OrchestratorEnv } from './orchestrator.js';
import { Stages } from './stages.js';

const REFUSAL = 'BdsDxe: failed to load Boot0003 "UEFI Misc Device 2" from PciRoot(0x0)/Pci(0x3,0x0): Access Denied\r\n';

function env(console: { text: string }): OrchestratorEnv {
  return {
    nailgun: undefined as never,
    cobbler: undefined as never,
    stages: new Stages(),
    log: () => undefined,
    timeouts: { firstBoot: 20_000 },
    serialTail: (_name, chars = 4000) => console.text.slice(-chars),
  };
}

const n = { name: 'node-1', hostname: 'node-1.domain.tld', macs: ['52:54:00:00:00:01'], profile: 'bootstrap' };

describe('waitForFirstBoot', () => {
  it('fails fast with who refused the loader, instead of waiting out the timeout', async () => {
    const console = { text: 'BdsDxe: loading Boot0003\r\n' };
    const node = { provisioned: [] } as unknown as MockNode;
    const started = Date.now();
    const waiting = waitForFirstBoot(env(console), n, node, 0);
    setTimeout(() => (console.text += REFUSAL), 200);
    const e = await waiting.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForgeError);
    expect((e as ForgeError).code).toBe('LAB_FAILED');
    expect((e as ForgeError).message).toContain('node-1 did not boot its disk: the firmware (Secure Boot) refused');
    expect((e as ForgeError).message).toContain('Access Denied');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it("a refusal from before the reboot is not this boot's: the call-back still ends the wait", async () => {
    const console = { text: REFUSAL };
    const node = { provisioned: [] as unknown[] } as unknown as MockNode;
    const waiting = waitForFirstBoot(env(console), n, node, 0);
    setTimeout(() => {
      console.text += 'Linux version 6.1.0\r\n';
      (node.provisioned as unknown[]).push({ uptime: '42' });
    }, 1500);
    await expect(waiting).resolves.toEqual({ uptime: '42' });
  }, 30_000);
});
