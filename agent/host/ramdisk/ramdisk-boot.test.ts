// System test: the bootstrap ramdisk boots under QEMU/TCG, runs the bundled
// agent, reports discovery to a real HTTP master on the host and executes the
// tasks it is given, then powers the VM off. Built once per machine (cache).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap } from '../artifacts.js';
import { createCtx } from '../../core/context.js';
import { silentLogger } from '../../core/log.js';
import { guestUrl, userNetdev } from '../../../lab/vm/user-net.js';
import { VERSION } from '../../version.js';
import type { BuiltBootstrap } from './build.js';
import type { DiscoveryReport, Task, TaskResult } from '../../bootstrap/protocol.js';
import { agentNodeArgv } from '../../core/node-flags.js';

async function json(req: IncomingMessage): Promise<unknown> {
  let s = '';
  for await (const c of req) s += c as string;
  return JSON.parse(s) as unknown;
}

describe('bootstrap ramdisk in QEMU (TCG)', () => {
  let built: BuiltBootstrap;
  let server: Server;
  const discoveries: DiscoveryReport[] = [];
  const results = new Map<string, TaskResult>();
  const queue: Task[] = [
    { id: 'version', kind: 'run', argv: ['provision', '--version'] },
    { id: 'tools', kind: 'run', argv: ['sh', '-c', 'for t in sgdisk parted lvm mdadm mkfs.ext4 mkfs.xfs mkfs.vfat qemu-img grub-install zstd curl; do command -v $t >/dev/null || echo missing $t; done; n=0; while [ $n -lt 100 ] && [ "$(lsmod | grep -c -E "^(dm_mod|md_mod|raid1) ")" != 3 ]; do sleep 0.2; n=$((n+1)); done; lsmod | grep -c -E "^(dm_mod|md_mod|raid1) "'] },
    // The vfat configdrive is written with mtools, which needs glibc's codepage 850 converter.
    { id: 'cd-image', kind: 'run', argv: ['truncate', '-s', '8M', '/tmp/cd.img'] },
    { id: 'cd-mkfs', kind: 'run', argv: ['mkfs.vfat', '-n', 'config-2', '/tmp/cd.img'] },
    { id: 'cd-mcopy', kind: 'run', argv: ['mcopy', '-i', '/tmp/cd.img', '/etc/fuel-forge/ramdisk.json', '::/meta_data.json'] },
    { id: 'cd-mdir', kind: 'run', argv: ['mdir', '-i', '/tmp/cd.img', '-b', '::/'] },
    { id: 'templates', kind: 'run', argv: ['ls', '/usr/share/fuel-forge/configdrive/templates'] },
    { id: 'xorriso', kind: 'run', argv: ['xorriso', '-version'] },
    // The daemon (this task's parent) runs node as the launcher says: with the agent's flags.
    { id: 'node-argv', kind: 'run', argv: ['sh', '-c', 'tr "\\000" " " < /proc/$PPID/cmdline'] },
    { id: 'off', kind: 'poweroff' },
  ];

  beforeAll(async () => {
    built = await ensureBootstrap();
    server = createServer((req, res) => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'POST' && u.pathname === '/api/nodes/agent') {
          discoveries.push((await json(req)) as DiscoveryReport);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}');
        } else if (req.method === 'GET' && u.pathname === '/api/nodes/agent/tasks') {
          const t = queue.shift();
          if (t) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(t));
          else res.writeHead(204).end();
        } else {
          const m = /^\/api\/nodes\/agent\/tasks\/([^/]+)\/(log|result)$/.exec(u.pathname);
          const b = await json(req).catch(() => undefined);
          if (m?.[1] && m[2] === 'result') results.set(m[1], b as TaskResult);
          res.writeHead(200).end('{}');
        }
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => {
    server?.close();
  });

  it('prints the agent version, discovers itself, runs tasks and powers off', async () => {
    const { port } = server.address() as AddressInfo;
    const ctx = createCtx({ log: silentLogger });
    // Restricted QEMU user networking: the guest reaches this server and nothing else.
    const append = `console=ttyS0 panic=-1 forge.master=${guestUrl(port)} forge.poll_ms=500`;
    const vm = ctx.runner.spawn(
      ['qemu-system-x86_64', '-accel', 'tcg', '-m', '1024', '-smp', '1', '-nographic', '-no-reboot', '-kernel', built.vmlinuz, '-initrd', built.initrd, '-append', append, '-netdev', userNetdev('n0', { hostPorts: [port] }), '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56',
        // One small disk (reads as zeros) for the discovery's inventory, read by the daemon itself.
        '-blockdev', `driver=null-co,node-name=inv0,size=${64 * 2 ** 20},read-zeroes=on`, '-device', 'virtio-blk-pci,drive=inv0,serial=forge-inv-1'],
      { timeoutMs: 280_000, okExitCodes: [0] },
    );
    const serial: string[] = [];
    const lines = createInterface({ input: vm.stdout });
    lines.on('line', (l) => serial.push(l.replace(/\r$/, '')));
    try {
      await vm.result;
    } finally {
      vm.kill();
    }
    const text = serial.join('\n');
    const version = serial.find((l) => l.startsWith('FORGE-AGENT-VERSION:'));
    expect(version, text.slice(-3000)).toBe(`FORGE-AGENT-VERSION: provision ${VERSION}`);
    expect(text).toContain('FORGE-BOOTSTRAP: ready');
    expect(text).toMatch(/FORGE-BOOTSTRAP: network eth0=10\.0\.2\.15|FORGE-BOOTSTRAP: network \S+=10\.0\.2\.15/);
    expect(discoveries).toHaveLength(1);
    expect(discoveries[0]?.macs).toEqual(['52:54:00:12:34:56']);
    expect(discoveries[0]?.cmdline).toContain('forge.master=');
    // The disk as QEMU was told to present it: the daemon's own inventory read (no `provision inventory` child).
    // (QEMU's default machine also brings its CD-ROM, sr0.)
    expect((discoveries[0]?.inventory as { disks?: unknown[] } | undefined)?.disks, JSON.stringify(discoveries[0]?.inventory)).toContainEqual(
      expect.objectContaining({ name: 'vda', serial: 'forge-inv-1', size: 64 * 2 ** 20, type: 'disk' }),
    );
    expect(results.get('version')).toMatchObject({ exitCode: 0 });
    expect(results.get('version')?.stdout.trim()).toBe(`provision ${VERSION}`);
    expect(results.get('tools')?.stdout.trim()).toBe('3');
    expect(results.get('cd-mcopy'), JSON.stringify(results.get('cd-mcopy'))).toMatchObject({ exitCode: 0 });
    expect(results.get('cd-mdir')?.stdout).toMatch(/META_DATA\.JSON|meta_data\.json/i);
    expect(results.get('templates')?.stdout.split('\n')).toEqual(expect.arrayContaining(['cloud-config.yaml', 'firstboot.sh']));
    expect(results.get('xorriso')?.exitCode).toBe(0);
    expect(results.get('node-argv')?.stdout.trim().split(' ')).toEqual([...agentNodeArgv('/usr/bin/node', '/usr/lib/fuel-forge/provision.mjs'), 'bootstrap-daemon']);
    expect(results.get('off')?.exitCode).toBe(0);
    expect(text).toContain('FORGE-BOOTSTRAP: poweroff');
  }, 300_000);
});
