// UEFI and Secure Boot nodes PXE-boot the bootstrap on the same segment as a BIOS
// node (issue 17): dnsmasq tells the firmware kinds apart by DHCP option 93 and
// hands UEFI clients shim, which loads Debian's signed GRUB network image, whose
// config (rendered by mock Cobbler per MAC) loads Debian's signed kernel and our
// ramdisk over TFTP; BIOS clients get iPXE's script as before. The node itself
// says what it booted with: /sys/firmware/efi and the SecureBoot variable, and the
// kernel's own lockdown line on the console.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../agent/host/artifacts.js';
import { ExecaRunner } from '../agent/core/runner.js';
import { orchestratorEnv, startLab, type Lab } from './lab.js';
import { parseTftpSent } from './master/master-net.js';
import { DEFAULT_PROFILES } from './mocks/provision-rpc.js';
import { UEFI_BOOT_FILE, UEFI_GRUB_FILE } from './mocks/cobbler-grub.js';
import { bootToBootstrap, runTask, type OrchestratedNode, type OrchestratorEnv } from './orchestrator.js';
import { Stages } from './stages.js';
import { labMac } from './vm/qemu.js';

const runner = new ExecaRunner();
const stages = new Stages((l) => process.stdout.write(l + '\n'));
let lab: Lab;
let env: OrchestratorEnv;

const node = (i: number): OrchestratedNode => ({ name: `node-${i}`, hostname: `node-${i}.domain.tld`, macs: [labMac(i)], profile: DEFAULT_PROFILES.bootstrap });
const nodes = { bios: node(31), uefi: node(32), secure: node(33) };
/** The SecureBoot EFI variable's value byte (1 = enforced), read by the node. */
const SB_VAR = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

let imagesDir = '';

beforeAll(async () => {
  const boot = await ensureBootstrap();
  imagesDir = mkdtempSync(join(tmpdir(), 'forge-uefi-images-'));
  lab = await startLab({ runner, bootstrap: { dir: boot.dir, kernel: boot.vmlinuz, initrd: boot.initrd }, imagesDir });
  env = orchestratorEnv(lab, stages, () => undefined);
}, 30 * 60_000);

afterAll(async () => {
  await lab?.dispose();
  if (imagesDir) rmSync(imagesDir, { recursive: true, force: true });
}, 120_000);

describe('UEFI and Secure Boot PXE beside BIOS (one segment)', () => {
  it('all three boot the bootstrap: BIOS through iPXE, UEFI and Secure Boot through shim → signed GRUB → signed kernel', async () => {
    const disks = [{ sizeMiB: 2048 }];
    lab.addNode({ name: nodes.bios.name, macs: nodes.bios.macs, disks });
    lab.addNode({ name: nodes.uefi.name, macs: nodes.uefi.macs, disks, firmware: 'uefi' });
    lab.addNode({ name: nodes.secure.name, macs: nodes.secure.macs, disks, firmware: 'uefi', secureBoot: true });
    const found = await Promise.all(Object.values(nodes).map((n) => bootToBootstrap(env, n)));
    expect(found.map((f) => f.macs[0])).toEqual(Object.values(nodes).map((n) => n.macs[0]));

    const acks = await lab.master.dhcpAcks();
    const ipOf = (n: OrchestratedNode): string | undefined => acks.filter((a) => a.mac === n.macs[0]).at(-1)?.ip;
    const sent = parseTftpSent(await lab.master.dnsmasqLog());
    const filesTo = (n: OrchestratedNode): string[] => sent.filter((s) => s.ip === ipOf(n)).map((s) => s.file);
    // What each firmware fetched over TFTP, from dnsmasq's own log.
    expect(filesTo(nodes.bios)).toContain('boot.ipxe');
    expect(filesTo(nodes.bios)).not.toContain(UEFI_BOOT_FILE);
    for (const n of [nodes.uefi, nodes.secure]) {
      expect(filesTo(n), n.name).toEqual(expect.arrayContaining([UEFI_BOOT_FILE, UEFI_GRUB_FILE, 'grub/grub.cfg', `grub/system/${n.macs[0]}`, `images/${DEFAULT_PROFILES.bootstrap}/vmlinuz`, `images/${DEFAULT_PROFILES.bootstrap}/initrd.img`]));
      expect(filesTo(n), n.name).not.toContain('boot.ipxe');
    }

    // The nodes' own account: firmware kind and Secure Boot state.
    const efi = async (n: OrchestratedNode) => (await runTask(env, n.macs[0] as string, ['test', '-d', '/sys/firmware/efi'], 60_000)).exitCode === 0;
    const sb = async (n: OrchestratedNode) => {
      const r = await runTask(env, n.macs[0] as string, ['od', '-An', '-tu1', '-j4', '-N1', SB_VAR], 60_000);
      return r.exitCode === 0 ? Number(r.stdout.trim()) : undefined;
    };
    expect(await efi(nodes.bios)).toBe(false);
    expect(await efi(nodes.uefi)).toBe(true);
    expect(await efi(nodes.secure)).toBe(true);
    expect(await sb(nodes.uefi)).toBe(0);
    expect(await sb(nodes.secure)).toBe(1);
    expect(lab.serialTail(nodes.secure.name, 400_000)).toContain('Kernel is locked down from EFI Secure Boot');
  }, 20 * 60_000);
});
