import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMethodCall, methodResponse, parseMethodResponse, faultResponse } from './xmlrpc.js';
import { startCobbler, CobblerClient, type CobblerSystem, type PowerAction } from './cobbler.js';
import { LOST_TASK_EXIT, startNailgun } from './nailgun.js';

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
