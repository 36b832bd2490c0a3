import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCtx } from '../core/context.js';
import { ForgeError } from '../core/errors.js';
import { createLogger, memorySink, type LogEvent } from '../core/log.js';
import { RecordingRunner } from '../core/runner.js';
import type { Plan } from '../plan/types.js';
import { parseProvisionData } from '../schema/load.js';
import { runProvisionCommand } from '../commands/run-command.js';
import { provisionRun, RunFailed, type Steps } from './provision-run.js';

const plan: Plan = {
  version: 1,
  parteds: [{ id: 'sda', name: 'sda', device: '/dev/sda', matchedBy: 'name', matchedOn: 'sda', size: 10240, logicalSectorSize: 512, physicalSectorSize: 512, label: 'gpt', partitions: [], keepData: false, boot: true }],
  mds: [], pvs: [], vgs: [], lvs: [],
  fss: [{ device: '/dev/sda3', mount: '/', type: 'ext4', mkfsOptions: [], mountOptions: 'defaults', fromImage: true, keepData: false }],
  images: [],
  configdrive: { device: '/dev/sda9', disk: '/dev/sda', partitionNum: 9, size: 20, label: 'config-2', format: 'vfat' },
  bootloader: { disks: ['/dev/sda'], bootDevice: '/dev/sda3', rootDevice: '/dev/sda3', kernelParams: '' },
};

function fakeSteps(calls: string[], failAt?: string): Steps {
  const step = <T>(name: string, value: T) => async (): Promise<T> => {
    calls.push(name);
    if (name === failAt) throw new ForgeError('TOOL_FAILED', `${name} broke`, { command: [name] });
    return value;
  };
  return {
    loadData: step('loadData', parseProvisionData({ hostname: 'n', ks_meta: { pm_data: { ks_spaces: [] } } })),
    checkData: async () => void calls.push('checkData'),
    inventory: step('inventory', { disks: [] }),
    buildPlan: () => (calls.push('buildPlan'), plan),
    validateImages: step('validateImages', []),
    partition: step('partition', {}),
    images: step('images', [{ uri: 'http://x/i.img.gz', mount: '/', device: '/dev/sda3', bytes: 10, md5: 'a', sha256: 'b', verified: true, durationMs: 1, rate: 10, resumes: 0, restarts: 0, grown: true }]),
    configdrive: step('configdrive', { device: '/dev/sda9', format: 'vfat', label: 'config-2', instanceId: 'i', hostname: 'n', callbackUrl: 'u', files: [], bytes: 1 }),
    bootloader: step('bootloader', { rootDevice: '/dev/sda3', rootUuid: 'r', biosDisks: ['/dev/sda'], efi: false, fstab: [], kernelParams: '', grubCfg: '/boot/grub/grub.cfg', kernels: ['vmlinuz-6'] }),
  };
}

const ctxWith = (events: LogEvent[]) => createCtx({ runner: new RecordingRunner(), log: createLogger([memorySink(events)]) });

describe('provisionRun', () => {
  it('runs every step in order and reports devices, images and timings', async () => {
    const calls: string[] = [];
    const events: LogEvent[] = [];
    const report = await provisionRun(ctxWith(events), { input: 'x.json' }, fakeSteps(calls));
    expect(calls).toEqual(['loadData', 'checkData', 'inventory', 'buildPlan', 'validateImages', 'partition', 'images', 'configdrive', 'bootloader']);
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['validate:ok', 'plan:ok', 'partition:ok', 'images:ok', 'configdrive:ok', 'bootloader:ok']);
    expect(report.devicesWritten.map((d) => `${d.step}:${d.device}`)).toEqual([
      'partition:/dev/sda', 'images:/dev/sda3', 'configdrive:/dev/sda9', 'bootloader:/dev/sda', 'bootloader:/dev/sda3',
    ]);
    expect(report.images[0]?.sha256).toBe('b');
    const ends = events.filter((e) => e.event === 'run.step.end');
    expect(ends).toHaveLength(6);
    expect(ends.every((e) => e.outcome === 'ok' && typeof e.durationMs === 'number')).toBe(true);
  });

  it('stops at the failing step with its typed error and says where', async () => {
    const calls: string[] = [];
    const events: LogEvent[] = [];
    const err = await provisionRun(ctxWith(events), { input: 'x.json' }, fakeSteps(calls, 'images')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailed);
    const r = (err as RunFailed).report;
    expect(r.ok).toBe(false);
    expect(r.stoppedAt).toBe('images');
    expect(r.error).toMatchObject({ code: 'TOOL_FAILED', command: ['images'] });
    expect(calls).not.toContain('configdrive');
    expect(r.steps.at(-1)).toMatchObject({ step: 'images', outcome: 'failed' });
    expect(events.some((e) => e.event === 'run.failed' && e.stoppedAt === 'images')).toBe(true);
  });

  it('runs only the requested step after validate and plan', async () => {
    const calls: string[] = [];
    const report = await provisionRun(ctxWith([]), { input: 'x.json', only: ['configdrive'] }, fakeSteps(calls));
    expect(calls).toEqual(['loadData', 'checkData', 'inventory', 'buildPlan', 'configdrive']);
    expect(report.steps.filter((s) => s.outcome === 'skipped').map((s) => s.step)).toEqual(['partition', 'images', 'bootloader']);
  });
});

describe('provision command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'forge-run-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the JSON report, writes --report and JSON-lines --log, exit 0', async () => {
    const out: string[] = [];
    const code = await runProvisionCommand('run', ['--input', 'x.json', '--log', join(dir, 'p.log'), '--report', join(dir, 'r.json')], { out: (t) => out.push(t), err: () => undefined }, { steps: fakeSteps([]) });
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n')).ok).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')).steps).toHaveLength(6);
    const lines = readFileSync(join(dir, 'p.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.event === 'run.step.start')).toHaveLength(6);
  });

  it('exits non-zero with the error and still writes the report of where it stopped', async () => {
    const errs: string[] = [];
    const code = await runProvisionCommand('run', ['--input', 'x.json', '--log', join(dir, 'q.log'), '--report', join(dir, 'q.json')], { out: () => undefined, err: (t) => errs.push(t) }, { steps: fakeSteps([], 'bootloader') });
    expect(code).toBe(1);
    expect(errs.join('\n')).toContain('TOOL_FAILED');
    expect(JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8')).stoppedAt).toBe('bootloader');
  });

  it('passes --stall-timeout to the image steps as milliseconds and rejects a bad value', async () => {
    const seen: unknown[] = [];
    const steps = fakeSteps([]);
    const record = (o: { fetch?: unknown }): void => void seen.push(o.fetch);
    const spy: Steps = {
      ...steps,
      validateImages: async (c, p, o) => (record(o), steps.validateImages(c, p, o)),
      images: async (c, p, o, r) => (record(o), steps.images(c, p, o, r)),
    };
    const io = { out: () => undefined, err: () => undefined };
    const code = await runProvisionCommand('run', ['--input', 'x.json', '--log', join(dir, 's.log'), '--stall-timeout', '7'], io, { steps: spy });
    expect(code).toBe(0);
    expect(seen).toEqual([{ stallTimeoutMs: 7000 }, { stallTimeoutMs: 7000 }]);
    await expect(runProvisionCommand('run', ['--stall-timeout', '0'], io, { steps: spy })).rejects.toMatchObject({ code: 'USAGE', field: 'stall-timeout' });
    await expect(runProvisionCommand('run', ['--stall-timeout', '5s'], io, { steps: spy })).rejects.toMatchObject({ code: 'USAGE' });
  });

  it('rejects an unknown configdrive format as bad usage', async () => {
    await expect(runProvisionCommand('run', ['--configdrive-format', 'udf'], { out: () => undefined, err: () => undefined }, { steps: fakeSteps([]) }))
      .rejects.toMatchObject({ code: 'USAGE' });
  });
});
