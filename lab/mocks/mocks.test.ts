import { afterAll, describe, it, expect } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMethodCall, methodResponse, parseMethodResponse, faultResponse } from './xmlrpc.js';
import { startCobbler, CobblerClient, type CobblerSystem, type PowerAction } from './cobbler.js';
import { LOST_TASK_EXIT, startNailgun, type StartedNailgun } from './nailgun.js';

describe('xml-rpc codec', () => {
  it('parses the spec example call', () => {
    const xml = `<?xml version="1.0"?>
<methodCall>
   <methodName>examples.getStateName</methodName>
   <params>
      <param>
         <value><i4>41</i4></value>
         </param>
      </params>
   </methodCall>`;
    expect(parseMethodCall(xml)).toEqual({ method: 'examples.getStateName', params: [41] });
  });
  it('round-trips structs, arrays, booleans, doubles, base64, nil and escaped strings', () => {
    const v = { lowerBound: 18, upperBound: 139, ok: true, list: [1, 'a<b&c', 2.5, null], raw: new Uint8Array([1, 2, 255]) };
    expect(parseMethodResponse(methodResponse(v))).toEqual(v);
    expect(parseMethodCall('<methodCall><methodName>x</methodName><params><param><value>untyped</value></param></params></methodCall>').params).toEqual(['untyped']);
  });
  it('turns faults into errors and rejects malformed input', () => {
    expect(() => parseMethodResponse(faultResponse(4, 'Too many parameters.'))).toThrow(/fault 4: Too many parameters/);
    expect(() => parseMethodCall('<methodCall><methodName>x</methodName><params><param><value><i4>4x</i4></value></param></params></methodCall>')).toThrow(/not an integer/);
    expect(() => parseMethodCall('<methodCall><methodName>x</methodName>')).toThrow(/unclosed/);
    expect(() => parseMethodCall('<methodCall><methodName>x</methodName><params><param><value><boolean>2</boolean></value></param></params></methodCall>')).toThrow(/boolean/);
  });
});

describe('mock Cobbler', () => {
  it('registers a system, writes per-MAC boot configs on sync, and boots locally once netboot is disabled', async () => {
    const tftp = mkdtempSync(join(tmpdir(), 'forge-cobbler-test-'));
    const boot = mkdtempSync(join(tmpdir(), 'forge-cobbler-boot-'));
    writeFileSync(join(boot, 'vmlinuz'), 'KERNEL');
    const powered: [string, PowerAction][] = [];
    try {
      await using cob = await startCobbler({
        tftpRoot: tftp,
        profiles: { bootstrap: { dir: boot, append: 'console=ttyS0 forge.master=http://10.0.2.2:9' } },
        guestBaseUrl: (p) => `http://10.0.2.2:${p}`,
        power: async (s: CobblerSystem, a: PowerAction) => { powered.push([s.name, a]); return true; },
      });
      const c = new CobblerClient(cob.url);
      await expect(c.call('new_system', 'bogus')).rejects.toThrow(/invalid token/);
      await c.login();
      await c.upsertSystem({ name: 'node-1', hostname: 'node-1.domain.tld', profile: 'bootstrap', netbootEnabled: true, macs: { eth0: '52:54:00:AA:00:01' } });
      await c.sync();
      const script = readFileSync(join(tftp, 'ipxe', '52-54-00-aa-00-01.ipxe'), 'utf8');
      expect(script).toContain(`kernel http://10.0.2.2:${cob.port}/cblr/bootstrap/vmlinuz initrd=initrd.img console=ttyS0 forge.master=http://10.0.2.2:9`);
      expect(readFileSync(join(tftp, 'pxelinux.cfg', '01-52-54-00-aa-00-01'), 'utf8')).toContain('APPEND console=ttyS0');
      expect(readFileSync(join(tftp, 'boot.ipxe'), 'utf8')).toContain('chain ipxe/${mac:hexhyp}.ipxe');
      expect(await (await fetch(`${cob.url}/cblr/bootstrap/vmlinuz`)).text()).toBe('KERNEL');
      expect(await c.call('find_system', { mac_address: '52:54:00:aa:00:01' })).toEqual(['node-1']);

      await c.setNetboot('node-1', false);
      // Not synced yet: the node would still boot the bootstrap (real Cobbler behaviour).
      expect(readFileSync(join(tftp, 'ipxe', '52-54-00-aa-00-01.ipxe'), 'utf8')).toContain('kernel ');
      await c.sync();
      expect(readFileSync(join(tftp, 'ipxe', '52-54-00-aa-00-01.ipxe'), 'utf8')).toMatch(/^exit$/m);

      expect(await c.power('node-1', 'reboot')).toBe(true);
      expect(powered).toEqual([['node-1', 'reboot']]);
      await expect(c.upsertSystem({ name: 'x', hostname: 'x', profile: 'nope', netbootEnabled: true, macs: {} })).rejects.toThrow(/invalid profile/);
      await c.remove('node-1');
      await c.sync();
      expect(() => readFileSync(join(tftp, 'ipxe', '52-54-00-aa-00-01.ipxe'))).toThrow();
    } finally {
      rmSync(tftp, { recursive: true, force: true });
      rmSync(boot, { recursive: true, force: true });
    }
  });
});

describe('mock Nailgun', () => {
  it('runs the discovery + task exchange of protocol.ts and records status and the first-boot call-back', async () => {
    await using ng = await startNailgun();
    const post = (p: string, b: unknown): Promise<Response> => fetch(ng.url + p, { method: 'POST', body: JSON.stringify(b), headers: { 'content-type': 'application/json' } });
    expect((await post('/api/nodes/agent', { macs: [] })).status).toBe(400);
    const { id } = (await (await post('/api/nodes/agent', { macs: ['52:54:00:AA:00:01'], inventory: { disks: [] }, agentVersion: '0.1.0', cmdline: 'x' })).json()) as { id: number };
    expect((await (await post('/api/nodes/agent', { macs: ['52:54:00:aa:00:01'], inventory: {}, agentVersion: '0.1.0', cmdline: 'x' })).json())).toEqual({ id });
    expect((await fetch(`${ng.url}/api/nodes/agent/tasks?mac=52:54:00:aa:00:01`)).status).toBe(204);
    const rec = ng.enqueue('52:54:00:aa:00:01', { kind: 'run', argv: ['provision', '--version'] });
    const task = (await (await fetch(`${ng.url}/api/nodes/agent/tasks?mac=52%3A54%3A00%3Aaa%3A00%3A01`)).json()) as { id: string; argv: string[] };
    expect(task).toMatchObject({ id: rec.task.id, kind: 'run', argv: ['provision', '--version'] });
    const lines: string[] = [];
    const done = ng.awaitResult(task.id, 5000, (l) => lines.push(l));
    await post(`/api/nodes/agent/tasks/${task.id}/log`, { lines: ['one', 'two'] });
    await post(`/api/nodes/agent/tasks/${task.id}/result`, { exitCode: 0, stdout: 'provision 0.1.0\n', stderrTail: '', durationMs: 5 });
    expect(await done).toMatchObject({ exitCode: 0, stdout: 'provision 0.1.0\n' });
    expect(lines).toEqual(['one', 'two']);
    await expect(ng.awaitResult(ng.enqueue('52:54:00:aa:00:01', { kind: 'poweroff' }).task.id, 50)).rejects.toMatchObject({ code: 'LAB_TIMEOUT' });

    const put = await fetch(`${ng.url}/api/nodes/${id}`, { method: 'PUT', body: JSON.stringify({ status: 'error', error_type: 'provision', progress: 40 }) });
    expect(await put.json()).toMatchObject({ status: 'error', error_type: 'provision', progress: 40 });
    ng.setProvisionData(id, { uid: String(id), hostname: 'node-1' });
    expect(await (await fetch(`${ng.url}/api/nodes/${id}/provision`)).json()).toEqual({ uid: String(id), hostname: 'node-1' });
    await post(`/api/v1/nodes/${id}/provisioned`, { status: 'provisioned', hostname: 'node-1', boot_finished: true });
    expect(ng.node(id)).toMatchObject({ status: 'provisioned', provisioned: [{ hostname: 'node-1', boot_finished: true }] });
  });

  it('fails a dispatched task when its node reports discovery again (it rebooted under the task)', async () => {
    await using ng = await startNailgun();
    const mac = '52:54:00:aa:00:02';
    const discover = (): Promise<Response> => fetch(`${ng.url}/api/nodes/agent`, { method: 'POST', body: JSON.stringify({ macs: [mac], inventory: {}, agentVersion: '0.1.0', cmdline: 'x' }) });
    await discover();
    const running = ng.enqueue(mac, { kind: 'run', argv: ['provision', 'run'] });
    const queued = ng.enqueue(mac, { kind: 'run', argv: ['true'] });
    expect(((await (await fetch(`${ng.url}/api/nodes/agent/tasks?mac=${mac}`)).json()) as { id: string }).id).toBe(running.task.id);
    const result = ng.awaitResult(running.task.id, 5000);
    await discover();
    expect(await result).toMatchObject({ exitCode: LOST_TASK_EXIT, stderrTail: expect.stringContaining('rebooted') });
    // Not yet handed out: still waiting for the rebooted node.
    expect(ng.task(queued.task.id)?.result).toBeUndefined();
    expect(((await (await fetch(`${ng.url}/api/nodes/agent/tasks?mac=${mac}`)).json()) as { id: string }).id).toBe(queued.task.id);
  });

  it('serves /targetimages with Range and cuts a download when a fault is injected', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-images-test-'));
    writeFileSync(join(dir, 'img.gz'), Buffer.from('0123456789'));
    try {
      await using ng = await startNailgun({ imagesDir: dir });
      const r = await fetch(`${ng.url}/targetimages/img.gz`, { headers: { range: 'bytes=3-5' } });
      expect(r.status).toBe(206);
      expect(r.headers.get('content-range')).toBe('bytes 3-5/10');
      expect(await r.text()).toBe('345');
      expect((await fetch(`${ng.url}/targetimages/img.gz`, { headers: { range: 'bytes=20-' } })).status).toBe(416);
      expect((await fetch(`${ng.url}/targetimages/../etc/passwd`)).status).toBe(404);
      ng.images?.faults.push({ path: /img\.gz/, cutAfterBytes: 4 });
      await expect((await fetch(`${ng.url}/targetimages/img.gz`)).text()).rejects.toThrow();
      expect(await (await fetch(`${ng.url}/targetimages/img.gz`)).text()).toBe('0123456789');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('mock Nailgun restart (state file)', () => {
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'forge-nailgun-state-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const mac = '52:54:00:aa:00:07';
  const call = (ng: StartedNailgun, method: string, p: string, b?: unknown): Promise<Response> =>
    fetch(ng.url + p, { method, ...(b === undefined ? {} : { body: JSON.stringify(b), headers: { 'content-type': 'application/json' } }) });
  const discover = async (ng: StartedNailgun): Promise<number> =>
    ((await (await call(ng, 'POST', '/api/nodes/agent', { macs: [mac.toUpperCase()], inventory: {} })).json()) as { id: number }).id;

  it('comes back from a restart mid-task with what was persisted: /api answers 502 meanwhile, waiters and held objects carry on', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'images'));
    writeFileSync(join(dir, 'images', 'img.gz'), '0123456789');
    await using ng = await startNailgun({ imagesDir: join(dir, 'images'), stateFile: join(dir, 'nailgun.json') });
    const id = await discover(ng);
    const node = ng.node(id);
    const rec = ng.enqueue(mac, { kind: 'run', argv: ['provision', 'run'] });
    const heldLines = rec.logLines;
    const task = (await (await call(ng, 'GET', `/api/nodes/agent/tasks?mac=${mac}`)).json()) as { id: string };
    expect(task.id).toBe(rec.task.id);
    expect((await call(ng, 'POST', `/api/nodes/agent/tasks/${task.id}/log`, { lines: ['l1', 'l2'] })).status).toBe(200);
    expect((await call(ng, 'PUT', `/api/nodes/${id}`, { status: 'provisioning', progress: 30 })).status).toBe(200);
    const lines: string[] = [];
    let settled = false;
    const result = ng.awaitResult(task.id, 10_000, (l) => lines.push(l));
    void result.finally(() => (settled = true));
    const served = ng.requests.length;

    const restarting = ng.restart({ downMs: 300 });
    const refused = await call(ng, 'POST', `/api/nodes/agent/tasks/${task.id}/log`, { lines: ['never arrives'] });
    expect(refused.status).toBe(502);
    expect(await refused.json()).toEqual({ error: 'nailgun is restarting' });
    expect(ng.refused).toEqual([{ method: 'POST', path: `/api/nodes/agent/tasks/${task.id}/log`, at: expect.any(Number) }]);
    // nginx serves the images itself.
    expect(await (await call(ng, 'GET', '/targetimages/img.gz')).text()).toBe('0123456789');
    expect(ng.requests).toHaveLength(served);
    await restarting;

    expect((await call(ng, 'GET', `/api/nodes/${id}`)).status).toBe(200);
    expect(ng.node(id)).toBe(node);
    expect(node).toMatchObject({ id, macs: [mac], discoveries: 1, status: 'provisioning', progress: 30, updates: [{ status: 'provisioning', progress: 30 }] });
    expect(ng.task(task.id)).toBe(rec);
    expect(rec).toMatchObject({ dispatchedAt: expect.any(Number), logLines: ['l1', 'l2'], result: undefined });
    expect(settled).toBe(false);

    await call(ng, 'POST', `/api/nodes/agent/tasks/${task.id}/log`, { lines: ['l3'] });
    await call(ng, 'POST', `/api/nodes/agent/tasks/${task.id}/result`, { exitCode: 0, stdout: '{"ok":true}', stderrTail: '', durationMs: 9 });
    expect(await result).toEqual({ exitCode: 0, stdout: '{"ok":true}', stderrTail: '', durationMs: 9 });
    expect(lines).toEqual(['l1', 'l2', 'l3']);
    expect(heldLines).toEqual(['l1', 'l2', 'l3']);
    // The node object taken before the restart follows what happens after it.
    expect(await discover(ng)).toBe(id);
    expect(node).toMatchObject({ discoveries: 2 });
    expect(ng.nodes()).toEqual([node]);
  });

  it('loses what was never persisted, keeps what was, and refuses a corrupt state file naming it', async () => {
    const file = join(tmp(), 'nailgun.json');
    await using ng = await startNailgun({ stateFile: file });
    const id = await discover(ng);
    const node = ng.node(id);
    if (!node) throw new Error('not discovered');
    ng.setProvisionData(id, { uid: String(id), hostname: 'node-7', name: 'node-7', interfaces: { eth0: { mac_address: mac } }, ks_meta: { pm_data: { ks_spaces: [] } } });
    expect((await call(ng, 'PUT', `/api/clusters/1/provision?nodes=${id}`)).status).toBe(202);
    expect((await ng.takeRpc(1000)).method).toBe('image_provision');
    expect((await call(ng, 'POST', '/api/nodes/no-such-uid/provisioned', { boot_finished: true })).status).toBe(200);
    ng.cluster.method = 'cobbler';
    // Changed in memory only: no request, no mutator — a real restart forgets it.
    node.progress = 77;
    node.errorType = 'ghost';
    node.updates.push({ ghost: true });

    await ng.restart({ downMs: 0 });
    expect(node).toMatchObject({ status: 'provisioning', progress: 0, errorType: undefined, updates: [], provision: { uid: String(id) } });
    expect(ng.cluster.method).toBe('cobbler');
    expect(ng.rpcs).toHaveLength(1);
    await expect(ng.takeRpc(50)).rejects.toMatchObject({ code: 'LAB_TIMEOUT' });
    // New ids continue after the persisted ones.
    expect(((await (await call(ng, 'POST', '/api/nodes/agent', { macs: ['52:54:00:aa:00:08'], inventory: {} })).json()) as { id: number }).id).toBe(id + 1);

    const good = readFileSync(file);
    writeFileSync(file, '{"version": 1, "nodes": [');
    await expect(ng.restart({ downMs: 0 })).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringContaining(file) });
    // Nailgun could not start: still down.
    expect((await call(ng, 'GET', '/api/nodes')).status).toBe(502);
    writeFileSync(file, good);
    ng.up();
    expect((await call(ng, 'GET', '/api/nodes')).status).toBe(200);
  });

  it('is held down until up(): the first-boot call-back is refused, a task enqueued meanwhile survives', async () => {
    await using ng = await startNailgun({ stateFile: join(tmp(), 'nailgun.json') });
    const id = await discover(ng);
    ng.down();
    const cb = await call(ng, 'POST', `/api/v1/nodes/${id}/provisioned`, { boot_finished: true });
    expect(cb.status).toBe(502);
    expect(ng.refused.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /api/v1/nodes/${id}/provisioned`]);
    expect(ng.node(id)?.provisioned).toEqual([]);
    const rec = ng.enqueue(mac, { kind: 'poweroff' });
    expect((await call(ng, 'GET', `/api/nodes/agent/tasks?mac=${mac}`)).status).toBe(502);
    ng.up();
    expect((await call(ng, 'POST', `/api/v1/nodes/${id}/provisioned`, { boot_finished: true })).status).toBe(200);
    expect(ng.node(id)).toMatchObject({ status: 'provisioned', provisioned: [{ boot_finished: true }] });
    expect(((await (await call(ng, 'GET', `/api/nodes/agent/tasks?mac=${mac}`)).json()) as { id: string }).id).toBe(rec.task.id);
    expect(ng.refused).toHaveLength(2);
    // Handing a task out is a change too: a restart right after it keeps it handed out.
    await ng.restart({ downMs: 0 });
    expect(rec.dispatchedAt).toEqual(expect.any(Number));
    expect((await call(ng, 'GET', `/api/nodes/agent/tasks?mac=${mac}`)).status).toBe(204);
  });

  it('fails a pending awaitResult whose task did not come back from the state file', async () => {
    const file = join(tmp(), 'nailgun.json');
    await using ng = await startNailgun({ stateFile: file });
    await discover(ng);
    const rec = ng.enqueue(mac, { kind: 'run', argv: ['true'] });
    const result = ng.awaitResult(rec.task.id, 10_000);
    ng.down();
    // The database lost the task (edited while Nailgun is down).
    const j = JSON.parse(readFileSync(file, 'utf8')) as { tasks: unknown[]; queues: Record<string, string[]> };
    j.tasks = [];
    j.queues = {};
    writeFileSync(file, JSON.stringify(j));
    ng.up();
    await expect(result).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringContaining('gone after a restart') });
    expect(ng.tasks()).toEqual([]);
  });

  it('will not reload a state file that missed a change (its write failed) until a later write succeeds', async () => {
    const dir = join(tmp(), 'db');
    mkdirSync(dir);
    await using ng = await startNailgun({ stateFile: join(dir, 'nailgun.json') });
    rmSync(dir, { recursive: true });
    expect(() => ng.enqueue(mac, { kind: 'poweroff' })).toThrow(expect.objectContaining({ code: 'LAB_FAILED' }));
    mkdirSync(dir);
    await expect(ng.restart({ downMs: 0 })).rejects.toMatchObject({ code: 'LAB_FAILED', message: expect.stringContaining('misses the last change') });
    ng.enqueue(mac, { kind: 'reboot' });
    ng.up();
    expect(ng.tasks().map((t) => t.task.kind)).toEqual(['poweroff', 'reboot']);
  });

  it('needs a state file to restart', async () => {
    await using ng = await startNailgun();
    await expect(ng.restart({ downMs: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    expect(() => ng.down()).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect((await call(ng, 'GET', '/api/nodes')).status).toBe(200);
  });
});
