import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptyState, readStateFile, restore, snapshot, writeStateFile, type NailgunState } from './nailgun-state.js';

function sample(): NailgunState {
  const s = emptyState('image');
  s.nodes.set(3, {
    id: 3, macs: ['52:54:00:aa:00:01'], status: 'error', progress: 40, errorType: 'provision', errorMessage: undefined,
    inventory: { disks: [{ name: 'vda' }] }, agentVersion: undefined, cmdline: 'console=ttyS0', discoveredAt: 1000, discoveries: 2,
    provision: undefined, provisioned: [{ boot_finished: true }], updates: [{ status: 'error', progress: 40 }],
  });
  s.tasks.set('t1', { task: { id: 't1', kind: 'run', argv: ['provision', 'run'] }, mac: '52:54:00:aa:00:01', queuedAt: 1, dispatchedAt: 2, finishedAt: undefined, logLines: ['a', 'b'], result: undefined });
  s.tasks.set('t2', { task: { id: 't2', kind: 'reboot' }, mac: '52:54:00:aa:00:01', queuedAt: 3, dispatchedAt: undefined, finishedAt: undefined, logLines: [], result: undefined });
  s.queues.set('52:54:00:aa:00:01', ['t2']);
  s.nextId = 4;
  s.method = 'cobbler';
  s.orphanCallbacks.push({ uid: 'x', body: { hostname: 'h' } });
  return s;
}

const viaJson = (s: NailgunState): unknown => JSON.parse(JSON.stringify(snapshot(s)));

describe('mock Nailgun state file', () => {
  it('round-trips through JSON with every field present, undefined ones as undefined', () => {
    const back = restore(viaJson(sample()));
    expect(back).toEqual(sample());
    const node = back.nodes.get(3);
    expect(node && Object.keys(node)).toEqual(Object.keys(sample().nodes.get(3) ?? {}));
    expect(node && 'errorMessage' in node).toBe(true);
    expect(back.tasks.get('t1')).toHaveProperty('result', undefined);
  });

  it('refuses a state it cannot trust, naming the source and the field', () => {
    const bad = (edit: (j: Record<string, unknown>) => void): unknown => {
      const j = viaJson(sample()) as Record<string, unknown>;
      edit(j);
      return j;
    };
    const nodes = (j: Record<string, unknown>): Record<string, unknown>[] => j['nodes'] as Record<string, unknown>[];
    expect(() => restore(bad((j) => ((nodes(j)[0] as Record<string, unknown>)['status'] = 'gone')), 'state.json')).toThrow(
      expect.objectContaining({ code: 'LAB_FAILED', field: 'nodes[0].status', message: expect.stringMatching(/^state\.json: nodes\[0\]\.status: expected one of/) }),
    );
    expect(() => restore(bad((j) => (j['version'] = 2)))).toThrow(expect.objectContaining({ code: 'LAB_FAILED', field: 'version' }));
    expect(() => restore(bad((j) => (j['queues'] = { m: ['t9'] })))).toThrow(/queued task t9 is not in tasks/);
    expect(() => restore(bad((j) => (j['nextId'] = 3)))).toThrow(/nextId: must be > 3/);
    expect(() => restore(bad((j) => (j['rpcTaken'] = 1)))).toThrow(/rpcTaken: 1 taken of 0/);
    expect(() => restore(null)).toThrow(expect.objectContaining({ code: 'LAB_FAILED' }));
  });

  it('writes atomically (no .tmp left) and reads back; an unreadable file is a LAB_FAILED naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-nailgun-state-unit-'));
    try {
      const file = join(dir, 'state.json');
      writeStateFile(file, sample());
      expect(readdirSync(dir)).toEqual(['state.json']);
      expect(readStateFile(file)).toEqual(sample());
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, cluster: { method: 'cobbler' } });
      expect(() => readStateFile(join(dir, 'missing.json'))).toThrow(expect.objectContaining({ code: 'LAB_FAILED', message: expect.stringContaining(join(dir, 'missing.json')) }));
      expect(() => writeStateFile(join(dir, 'no-dir', 'state.json'), sample())).toThrow(expect.objectContaining({ code: 'LAB_FAILED' }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
