import { describe, it, expect, beforeAll } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecaRunner } from '../../agent/core/runner.js';
import { ovmfFiles, qemuArgv, startVm, labMac, type VmSpec, type VmFiles } from './qemu.js';
import { testKernel, tinyInitrd, TINY_INIT_MARKER } from './test-kernel.js';
import { LAB_HOST_IN_GUEST } from './user-net.js';
import { callback } from './wait.js';

const files: VmFiles = { dir: '/x', serialLog: '/x/serial.log', qmpSocket: '/x/qmp.sock', disks: ['/x/d0', '/x/d1', '/x/d2'], nvram: '/x/nvram.fd' };

describe('qemuArgv', () => {
  it('boots PXE first and the first disk second, with fixed MACs and a TFTP root', () => {
    const spec: VmSpec = {
      name: 'n1',
      disks: [{ sizeMiB: 10 }, { sizeMiB: 20, bus: 'nvme', logicalBlockSize: 4096 }, { sizeMiB: 5, bus: 'sata' }],
      nics: [{ mac: '52:54:00:aa:bb:cc', netdev: { kind: 'user', tftpRoot: '/t', bootfile: 'boot.ipxe' } }],
      boot: { kind: 'pxe' },
    };
    const a = qemuArgv(spec, files);
    expect(a.slice(a.indexOf('-accel'), a.indexOf('-accel') + 2)).toEqual(['-accel', 'tcg']);
    expect(a).toContain('virtio-blk-pci,drive=d0,id=disk0,serial=forge-n1-0,bootindex=1');
    expect(a).toContain('nvme,drive=d1,serial=forge-n1-1,logical_block_size=4096,physical_block_size=4096');
    expect(a).toContain('ide-hd,drive=d2,bus=ide.0,serial=forge-n1-2');
    expect(a).toContain('user,id=n0,net=10.0.2.0/24,restrict=on,tftp=/t,bootfile=boot.ipxe');
    expect(a).toContain('virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc,bootindex=0');
    expect(a).toContain('unix:/x/qmp.sock,server=on,wait=off');
    // The console: a socket for `lab console` that logs every byte to serial.log; a second QMP for other processes.
    expect(a.slice(a.indexOf('-chardev'), a.indexOf('-chardev') + 4))
      .toEqual(['-chardev', 'socket,id=ser0,path=/x/console.sock,server=on,wait=off,logfile=/x/serial.log', '-serial', 'chardev:ser0']);
    expect(a.filter((x, i) => a[i - 1] === '-qmp')).toEqual(['unix:/x/qmp.sock,server=on,wait=off', 'unix:/x/control.sock,server=on,wait=off']);
    expect(a).not.toContain('-kernel');
  });

  it('restricts every user network; only the listed host ports are forwarded, each to the host loopback', () => {
    const a = qemuArgv({ name: 'r', disks: [], nics: [{ mac: labMac(5), netdev: { kind: 'user', hostPorts: [8000, 8000, 9001] } }], boot: { kind: 'disk' } }, files);
    expect(a[a.indexOf('-netdev') + 1]).toBe('user,id=n0,net=10.0.2.0/24,restrict=on'
      + ',guestfwd=tcp:10.0.2.100:8000-cmd:socat STDIO TCP:127.0.0.1:8000,guestfwd=tcp:10.0.2.100:9001-cmd:socat STDIO TCP:127.0.0.1:9001');
    expect(() => qemuArgv({ name: 'r', disks: [], nics: [{ mac: labMac(5), netdev: { kind: 'user', tftpRoot: '/t,hostfwd=tcp::22-:22' } }], boot: { kind: 'disk' } }, files))
      .toThrow(/commas/);
  });

  it('lets a BIOS node boot its first 512-byte-sector disk (not a 4Kn NVMe); UEFI boots the first disk', () => {
    const disks: VmSpec['disks'] = [{ sizeMiB: 20, bus: 'nvme', logicalBlockSize: 4096 }, { sizeMiB: 5, bus: 'sata' }];
    const bios = qemuArgv({ name: 'b', disks, nics: [{ mac: labMac(4), netdev: { kind: 'user' } }], boot: { kind: 'pxe' } }, files);
    expect(bios.filter((x) => x.includes('bootindex=1'))).toEqual(['ide-hd,drive=d1,bus=ide.0,serial=forge-b-1,bootindex=1']);
    const uefi = qemuArgv({ name: 'u', disks, firmware: 'uefi', nics: [{ mac: labMac(4), netdev: { kind: 'user' } }], boot: { kind: 'pxe' } }, files);
    expect(uefi.filter((x) => x.includes('bootindex=1'))).toEqual(['nvme,drive=d0,serial=forge-u-0,logical_block_size=4096,physical_block_size=4096,bootindex=1']);
  });

  it('gives a UEFI node OVMF with its own NVRAM file and OVMF\'s network driver; Secure Boot adds SMM and Microsoft\'s keys', () => {
    const nics: VmSpec['nics'] = [{ mac: labMac(4), netdev: { kind: 'user' } }];
    const uefi = qemuArgv({ name: 'u', disks: [], firmware: 'uefi', nics, boot: { kind: 'pxe' } }, files);
    expect(uefi).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd');
    expect(uefi).toContain('if=pflash,format=raw,unit=1,file=/x/nvram.fd');
    expect(uefi.find((x) => x.startsWith('virtio-net-pci'))).toMatch(/,romfile=$/);
    expect(uefi[uefi.indexOf('-machine') + 1]).toBe('q35');
    const sb = qemuArgv({ name: 's', disks: [], firmware: 'uefi', secureBoot: true, nics, boot: { kind: 'pxe' } }, files);
    expect(sb[sb.indexOf('-machine') + 1]).toBe('q35,smm=on');
    expect(sb).toContain('driver=cfi.pflash01,property=secure,value=on');
    expect(sb).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd');
    const bios = qemuArgv({ name: 'b', disks: [], nics, boot: { kind: 'pxe' } }, files);
    expect(bios.some((x) => x.includes('pflash') || x.includes('romfile'))).toBe(false);
    expect(() => qemuArgv({ name: 'x', disks: [], secureBoot: true, nics, boot: { kind: 'pxe' } }, files)).toThrow(/Secure Boot needs UEFI/);
    // Debian's ovmf ships every file named here.
    for (const f of [ovmfFiles(false), ovmfFiles(true)].flatMap((o) => [o.code, o.varsTemplate])) expect(existsSync(f), f).toBe(true);
  });

  it('uses direct kernel boot without boot indexes, and tap netdevs', () => {
    const a = qemuArgv({
      name: 'k',
      disks: [{ sizeMiB: 1 }],
      nics: [{ mac: labMac(3, 1), netdev: { kind: 'tap', ifname: 'ftap3' } }],
      boot: { kind: 'kernel', kernel: '/k', initrd: '/i', append: 'console=ttyS0 forge.master=http://10.0.2.2:1' },
    }, files);
    expect(a.slice(a.indexOf('-kernel'))).toEqual(['-kernel', '/k', '-initrd', '/i', '-append', 'console=ttyS0 forge.master=http://10.0.2.2:1']);
    expect(a.join(' ')).not.toContain('bootindex');
    expect(a).toContain('tap,id=n0,ifname=ftap3,script=no,downscript=no');
    expect(a).toContain('virtio-net-pci,netdev=n0,mac=52:54:00:f0:03:01');
  });

  it('rejects bad MACs and names, naming the field', () => {
    expect(() => qemuArgv({ name: 'a', disks: [], nics: [{ mac: 'AA:BB', netdev: { kind: 'user' } }], boot: { kind: 'disk' } }, files))
      .toThrow(expect.objectContaining({ field: 'nics[0].mac' }));
    expect(() => qemuArgv({ name: 'a b', disks: [], nics: [], boot: { kind: 'disk' } }, files))
      .toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => qemuArgv({ name: 'a', disks: [{ sizeMiB: 0 }], nics: [], boot: { kind: 'disk' } }, files))
      .toThrow(expect.objectContaining({ field: 'disks[0].sizeMiB' }));
  });
});

describe('startVm (real QEMU under TCG)', () => {
  const runner = new ExecaRunner();
  let kernel = '';
  let initrd = '';
  beforeAll(async () => {
    kernel = await testKernel(runner);
    initrd = await tinyInitrd(runner);
  });

  it('boots a kernel to userspace, resets over QMP, and leaves nothing behind when disposed', async () => {
    let dir = '';
    let pid = 0;
    {
      await using vm = await startVm({
        name: 'drv', memMiB: 384,
        disks: [{ sizeMiB: 16, bus: 'nvme', logicalBlockSize: 4096 }],
        nics: [],
        boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0,115200 quiet' },
      }, { runner });
      dir = vm.files.dir;
      pid = vm.pid;
      expect(existsSync(vm.files.disks[0] as string)).toBe(true);
      await vm.waitForSerial(new RegExp(TINY_INIT_MARKER), 90_000);
      expect((await vm.status()).status).toBe('running');
      const offset = vm.serialText().length;
      await vm.reset();
      await vm.waitForSerial(new RegExp(TINY_INIT_MARKER), 90_000, offset);
    }
    expect(existsSync(dir)).toBe(false);
    expect(() => process.kill(pid, 0)).toThrow();
  }, 240_000);

  it('a new QEMU in the same directory with appendSerial continues the console: an offset taken before it stays valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-vm-append-'));
    const spec: VmSpec = { name: 'cyc', memMiB: 256, disks: [{ sizeMiB: 8 }], nics: [], boot: { kind: 'kernel', kernel, initrd, append: 'console=ttyS0,115200 quiet' } };
    const marker = new RegExp(TINY_INIT_MARKER, 'g');
    try {
      let offset = 0;
      {
        await using first = await startVm(spec, { runner, dir, keepDir: true });
        await first.waitForSerial(new RegExp(TINY_INIT_MARKER), 90_000);
        offset = first.serialText().length;
      }
      await using second = await startVm({ ...spec, appendSerial: true }, { runner, dir, keepDir: true });
      await second.waitForSerial(new RegExp(TINY_INIT_MARKER), 90_000, offset);
      // Both boots are in the one log, the first one's bytes unchanged.
      expect(second.serialText().match(marker)?.length).toBe(2);
      expect(second.serialText().slice(0, offset).match(marker)?.length).toBe(1);
      await second.stop();
      // Without it, a new QEMU starts the log afresh.
      await using third = await startVm(spec, { runner, dir, keepDir: true });
      await third.waitForSerial(new RegExp(TINY_INIT_MARKER), 90_000);
      expect(third.serialText().match(marker)?.length).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('PXE-boots iPXE from the TFTP root, which calls back over HTTP with the fixed MAC; nothing unforwarded is reachable', async () => {
    const seen: string[] = [];
    const srv: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.end('#!ipxe\nsleep 600\n');
    });
    // A host service the guest is not given: unrestricted slirp would connect 10.0.2.2:port to it.
    const blocked: string[] = [];
    const hidden: Server = createServer((req, res) => {
      blocked.push(req.url ?? '');
      res.end('#!ipxe\nsleep 600\n');
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => hidden.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const hiddenPort = (hidden.address() as AddressInfo).port;
    const tftp = mkdtempSync(join(tmpdir(), 'forge-tftp-test-'));
    // iPXE first tries the host behind slirp's host alias, then the forwarded service.
    writeFileSync(join(tftp, 'boot.ipxe'), [
      '#!ipxe',
      `chain http://10.0.2.2:${hiddenPort}/leak || echo blocked`,
      `chain http://${LAB_HOST_IN_GUEST}:${port}/hello?mac=\${mac}`,
      '',
    ].join('\n'));
    try {
      await using vm = await startVm({
        name: 'pxe', memMiB: 256, disks: [{ sizeMiB: 8 }],
        nics: [{ mac: labMac(7), netdev: { kind: 'user', tftpRoot: tftp, bootfile: 'boot.ipxe', hostPorts: [port] } }],
        boot: { kind: 'pxe' },
      }, { runner });
      // A leak ends the wait at once (unrestricted, iPXE would fetch /leak and sleep there).
      const first = () => seen[0] ?? (blocked[0] === undefined ? undefined : `leaked to the host: ${blocked[0]}`);
      const url = await vm.waitFor(callback('iPXE call-back', first, { timeoutMs: 90_000, failWhen: vm.exited }));
      expect(decodeURIComponent(url)).toBe(`/hello?mac=${labMac(7)}`);
      // Unrestricted, iPXE would have fetched /leak from the host and slept there.
      expect(blocked).toEqual([]);
    } finally {
      srv.close();
      hidden.close();
      rmSync(tftp, { recursive: true, force: true });
    }
  }, 180_000);

  it('fails a wait early, naming the cause, when QEMU exits', async () => {
    await using vm = await startVm({ name: 'dies', memMiB: 128, disks: [], nics: [], boot: { kind: 'disk' } }, { runner });
    process.kill(vm.pid, 'SIGKILL');
    await expect(vm.waitForSerial(/never/, 30_000)).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringMatching(/killed by SIGKILL/) });
  }, 60_000);
});
