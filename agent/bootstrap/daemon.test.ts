import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCtx, realClock } from '../core/context.js';
import { silentLogger } from '../core/log.js';
import { VERSION } from '../version.js';
import { runDaemon } from './daemon.js';
import { parseBootstrapParams } from './kernel-params.js';
import { LogShipper } from './log-shipper.js';
import type { DiscoveryReport, Task, TaskResult } from './protocol.js';

describe('kernel params', () => {
  it('reads forge.* and ignores the rest', () => {
    const p = parseBootstrapParams('BOOT_IMAGE=/vmlinuz console=ttyS0 forge.master=http://10.0.2.2:8000/ forge.poll_ms=500 forge.debug=1 quiet');
    expect(p).toEqual({ master: 'http://10.0.2.2:8000', provisionUrl: undefined, pollMs: 500, debug: true });
    expect(parseBootstrapParams('console=ttyS0').master).toBeUndefined();
  });
  it('rejects bad values naming the parameter', () => {
    expect(() => parseBootstrapParams('forge.master=ftp://x')).toThrow(/forge.master/);
    expect(() => parseBootstrapParams('forge.poll_ms=fast')).toThrow(/forge.poll_ms/);
  });
});

describe('log shipper', () => {
  it('batches lines, re-sends after a failure and reports dropped lines', async () => {
    const sent: string[][] = [];
    let fail = true;
    const s = new LogShipper({
      clock: realClock,
      intervalMs: 10,
      jitterMs: 0,
      maxBuffered: 3,
      send: async (lines) => {
        if (fail) throw new Error('master away');
        sent.push(lines);
      },
    });
    for (const l of ['a', 'b', 'c', 'd', 'e']) s.push(l);
    await s.flush();
    expect(sent).toEqual([]);
    fail = false;
    await s.close();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[0]).toMatch(/2 log lines dropped/);
    expect(sent[0]?.slice(1)).toEqual(['c', 'd', 'e']);
  });
});

interface Master {
  server: Server;
  url: string;
  discoveries: DiscoveryReport[];
  logs: Map<string, string[]>;
  results: Map<string, TaskResult>;
  queue: Task[];
  polledMacs: string[];
}

async function body(req: IncomingMessage): Promise<unknown> {
  let s = '';
  for await (const c of req) s += c as string;
  return JSON.parse(s) as unknown;
}

async function startMaster(queue: Task[], failDiscoveries = 0): Promise<Master> {
  let failures = failDiscoveries;
  const m: Omit<Master, 'server' | 'url'> = { discoveries: [], logs: new Map(), results: new Map(), queue, polledMacs: [] };
  const server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && u.pathname === '/api/nodes/agent' && failures > 0) {
        failures--;
        res.writeHead(503).end('busy');
      } else if (req.method === 'POST' && u.pathname === '/api/nodes/agent') {
        m.discoveries.push((await body(req)) as DiscoveryReport);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 7 }));
      } else if (req.method === 'GET' && u.pathname === '/api/nodes/agent/tasks') {
        m.polledMacs.push(u.searchParams.get('mac') ?? '');
        const t = m.queue.shift();
        if (t) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(t));
        else res.writeHead(204).end();
      } else {
        const mm = /^\/api\/nodes\/agent\/tasks\/([^/]+)\/(log|result)$/.exec(u.pathname);
        if (req.method === 'POST' && mm?.[1] && mm[2]) {
          const b = await body(req);
          if (mm[2] === 'log') m.logs.set(mm[1], [...(m.logs.get(mm[1]) ?? []), ...(b as { lines: string[] }).lines]);
          else m.results.set(mm[1], b as TaskResult);
          res.writeHead(200).end('{}');
        } else res.writeHead(404).end();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { ...m, server, url: `http://127.0.0.1:${port}` };
}

describe('bootstrap daemon against a real HTTP master', () => {
  let dir: string;
  let master: Master | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-daemon-'));
    for (const [nic, mac] of [['eth0', '52:54:00:12:34:56'], ['eth1', '52:54:00:AB:CD:EF'], ['lo', '00:00:00:00:00:00']] as const) {
      await mkdir(join(dir, 'net', nic), { recursive: true });
      await writeFile(join(dir, 'net', nic, 'address'), mac + '\n');
    }
  });
  afterEach(async () => {
    master?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('discovers, then runs upload/run/poweroff tasks and reports each', async () => {
    const target = join(dir, 'up', 'provision.json');
    master = await startMaster([
      { id: 't1', kind: 'upload', path: target, contentBase64: Buffer.from('{"a":1}').toString('base64'), mode: 0o600 },
      { id: 't2', kind: 'run', argv: ['cat', target] },
      { id: 't3', kind: 'run', argv: ['ls', join(dir, 'missing')] },
      { id: 't4', kind: 'poweroff' },
    ]);
    const said: string[] = [];
    const sysrq: string[] = [];
    const code = await runDaemon(createCtx({ log: silentLogger }), {
      cmdline: `console=ttyS0 forge.master=${master.url} forge.poll_ms=100`,
      sysClassNet: join(dir, 'net'),
      inventoryArgv: ['echo', '{"disks":[]}'],
      say: (l) => said.push(l),
      sysrq: async (k) => {
        sysrq.push(k);
      },
      random: () => 0.5,
    });
    expect(code).toBe(0);
    expect(master.discoveries).toHaveLength(1);
    expect(master.discoveries[0]).toMatchObject({ macs: ['52:54:00:12:34:56', '52:54:00:ab:cd:ef'], inventory: { disks: [] } });
    expect(master.discoveries[0]?.agentVersion).toMatch(/^provision \d/);
    expect(new Set(master.polledMacs)).toEqual(new Set(['52:54:00:12:34:56']));
    expect(await readFile(target, 'utf8')).toBe('{"a":1}');
    expect(master.results.get('t1')?.exitCode).toBe(0);
    expect(master.results.get('t2')).toMatchObject({ exitCode: 0, stdout: '{"a":1}' });
    expect(master.results.get('t3')?.exitCode).not.toBe(0);
    expect(master.logs.get('t3')?.join('\n')).toMatch(/No such file/);
    expect(master.results.get('t4')?.exitCode).toBe(0);
    expect(sysrq).toEqual(['o']);
    expect(said).toContain('FORGE-BOOTSTRAP: discovered id=7 mac=52:54:00:12:34:56');
    // The version marker is the daemon's first console line (the ramdisk's /init no longer starts Node for it).
    expect(said[0]).toBe(`FORGE-AGENT-VERSION: provision ${VERSION}`);
  });

  it("ships a running task's stderr lines before the task ends", async () => {
    // The task prints its second line only once the master holds its first: a daemon that
    // shipped lines only at the task's end would leave it waiting, and it gives up with exit 3.
    // (Sampling the master's log on a timer raced the end of the task under a loaded machine.)
    const go = join(dir, 'master-has-first');
    master = await startMaster([
      { id: 'slow', kind: 'run', argv: ['sh', '-c', 'echo first >&2; i=0; while [ ! -e "$1" ]; do i=$((i+1)); [ $i -gt 300 ] && exit 3; sleep 0.1; done; echo second >&2', 'sh', go] },
      { id: 'off', kind: 'poweroff' },
    ]);
    let firstWhileRunning = false;
    const poll = setInterval(() => {
      if (firstWhileRunning || !master?.logs.get('slow')?.includes('first')) return;
      firstWhileRunning = !master.results.has('slow');
      void writeFile(go, '');
    }, 50);
    try {
      const code = await runDaemon(createCtx({ log: silentLogger }), {
        cmdline: `forge.master=${master.url} forge.poll_ms=100`,
        sysClassNet: join(dir, 'net'),
        inventoryArgv: ['echo', '{"disks":[]}'],
        say: () => undefined,
        sysrq: async () => undefined,
      });
      expect(code).toBe(0);
    } finally {
      clearInterval(poll);
    }
    expect(firstWhileRunning).toBe(true);
    expect(master.results.get('slow')?.exitCode).toBe(0);
    expect(master.logs.get('slow')).toEqual(['first', 'second']);
  });

  it('keeps retrying discovery with backoff until the master answers', async () => {
    master = await startMaster([{ id: 'r', kind: 'reboot' }], 3);
    const sleeps: number[] = [];
    const said: string[] = [];
    const code = await runDaemon(
      createCtx({
        log: silentLogger,
        clock: {
          now: () => Date.now(),
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      }),
      {
        cmdline: `forge.master=${master.url}`,
        sysClassNet: join(dir, 'net'),
        inventoryArgv: ['false'],
          say: (l) => said.push(l),
        sysrq: async () => undefined,
      },
    );
    expect(code).toBe(0);
    // inventory failed but discovery still happened, with the reason.
    expect(master.discoveries[0]?.inventory).toMatchObject({ error: expect.stringMatching(/false/) });
    expect(said.some((l) => l.includes('reboot'))).toBe(true);
    expect(said.filter((l) => l.includes('discovery failed'))).toHaveLength(3);
    // Exponential backoff: each wait at least as long as the previous ceiling's half.
    expect(sleeps.slice(0, 3).every((ms, i) => ms >= 500 * 2 ** i && ms <= 1000 * 2 ** i)).toBe(true);
    expect(master.discoveries).toHaveLength(1);
  });
});

describe('idle polling', () => {
  it('spreads the wait over ±50 % of the interval so nodes booted together do not poll in step; the mean stays the interval', async () => {
    const { idlePollMs } = await import('./daemon.js');
    expect([0, 0.25, 0.5, 0.999].map((r) => idlePollMs(2000, () => r))).toEqual([1000, 1500, 2000, 2998]);
    let seed = 1;
    const lcg = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const waits = Array.from({ length: 2000 }, () => idlePollMs(2000, lcg));
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(Math.abs(mean - 2000)).toBeLessThan(50);
    // 100 nodes' first idle poll after the same instant: spread over a second, not one burst.
    const firstPolls = waits.slice(0, 100);
    expect(Math.max(...firstPolls) - Math.min(...firstPolls)).toBeGreaterThan(1500);
  });
});
