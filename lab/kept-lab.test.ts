import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPlan } from '../agent/plan/build.js';
import { loadScenario } from '../agent/plan/fixtures.js';
import {
  findKeptNode, holdKeptLab, keptLabsDir, listKeptLabs, planFromReport, reachInstructions, readKeptLab, writeKeptLab, type KeptLab, type KeptNode,
} from './kept-lab.js';

const node = (name: string, extra: Partial<KeptNode> = {}): KeptNode => ({
  name, macs: ['52:54:00:f0:01:00'], vmDir: `/tmp/forge-lab-x/vm-${name}`, serialLog: '/v/serial.log',
  consoleSocket: '/v/console.sock', controlSocket: '/v/control.sock', disks: [{ file: '/v/disk0.qcow2', sectorSize: 512 }], ...extra,
});
const lab = (pid: number, nodes: KeptNode[]): KeptLab => ({ version: 1, pid, kind: 'demo', startedAt: '2026-11-29T10:00:00Z', nodes });

describe('kept-lab state files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'forge-kept-test-'));
    dirs.push(d);
    return d;
  };

  it('round-trips a lab with its plan, and lists owners alive or dead; a broken file still names its owner', async () => {
    const dir = temp();
    const { data, inventory } = await loadScenario('two-disks-raid-lvm');
    const plan = buildPlan(data, inventory);
    const file = writeKeptLab(lab(11, [node('node-1', { ip: '10.97.5.100', plan })]), dir);
    expect(file).toBe(join(dir, '11.json'));
    expect(readKeptLab(file).nodes[0]?.plan).toEqual(plan);
    writeFileSync(join(dir, '12.json'), '{"version": 1, "pid": "twelve"}');
    writeFileSync(join(dir, 'notes.txt'), 'not a state file');
    const listed = listKeptLabs(dir, (pid) => pid === 11);
    expect(listed.map((e) => [e.pid, e.alive, e.lab !== undefined])).toEqual([[11, true, true], [12, false, false]]);
    expect(listed[1]?.error).toMatch(/12\.json: unexpected output at/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('takes the state directory from FORGE_LAB_STATE_DIR, else /run/fuel-forge/labs', () => {
    expect(keptLabsDir({ FORGE_LAB_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(keptLabsDir({})).toBe('/run/fuel-forge/labs');
  });

  it('finds a node: a live owner wins over a dead one, two live ones need --lab, a missing one names those kept', () => {
    const entries = (alive: number[]) => [11, 12].map((pid) => ({ file: `${pid}.json`, pid, alive: alive.includes(pid), lab: lab(pid, [node('node-1'), node(`only-${pid}`)]) }));
    expect(findKeptNode(entries([12]), 'node-1').lab.pid).toBe(12);
    expect(() => findKeptNode(entries([11, 12]), 'node-1')).toThrow(expect.objectContaining({ code: 'USAGE', field: 'lab', message: expect.stringMatching(/11, 12: pass --lab/) }));
    expect(findKeptNode(entries([11, 12]), 'node-1', 11).lab.pid).toBe(11);
    expect(() => findKeptNode(entries([]), 'node-9')).toThrow(/no kept lab has a node node-9; kept nodes: node-1 \(lab 11\), only-11 \(lab 11\)/);
  });

  it('reads the plan out of an agent report only when it is one', async () => {
    const { data, inventory } = await loadScenario('single-disk');
    const plan = buildPlan(data, inventory);
    expect(planFromReport({ ok: true, plan })).toEqual(plan);
    expect(planFromReport({ ok: true, plan: { parteds: 'no' } })).toBeUndefined();
    expect(planFromReport(undefined)).toBeUndefined();
  });

  it('tells how to reach each node (console with its detach key, ssh unless unreachable, disks, down)', () => {
    const text = reachInstructions(lab(11, [node('node-1', { ip: '10.97.5.100' }), node('replay', { unreachable: 'restricted user networking' })])).join('\n');
    expect(text).toMatch(/node-1 10\.97\.5\.100/);
    expect(text).toMatch(/lab\/cli\.ts console node-1 .*Ctrl-\]/);
    expect(text).toMatch(/lab\/cli\.ts ssh node-1/);
    expect(text).not.toMatch(/ssh replay/);
    expect(text).toMatch(/no ssh: restricted user networking/);
    expect(text).toMatch(/lab\/cli\.ts disks replay/);
    expect(text).toMatch(/lab\/cli\.ts down/);
  });

  it('holds until the signal, with the state file published meanwhile and gone afterwards', async () => {
    const dir = temp();
    const ac = new AbortController();
    const lines: string[] = [];
    const held = holdKeptLab(lab(process.pid, [node('node-1')]), ac.signal, (l) => lines.push(l), dir);
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir)).toEqual([`${process.pid}.json`]);
    ac.abort();
    await held;
    expect(readdirSync(dir)).toEqual([]);
    expect(lines.at(-1)).toBe('tearing the kept lab down');
  });
});
