import { describe, expect, it } from 'vitest';
import { createCtx } from '../agent/core/context.js';
import { createLogger, redactedLine } from '../agent/core/log.js';
import { Progress } from '../agent/image/progress.js';
import { agentLineFeed, buildStepSink, parseImageProgress, stageFeed } from './progress-feed.js';
import { ProgressConsole, type ProgressStream } from './progress.js';
import { Stages } from './stages.js';

const MiB = 1024 * 1024;

function stream(tty: boolean): ProgressStream & { chunks: string[]; text(): string } {
  const chunks: string[] = [];
  return { isTTY: tty, columns: 160, write: (c: string) => chunks.push(c), chunks, text: () => chunks.join('') };
}

function clock(): { now(): number; sleep(): Promise<void>; advance(ms: number): void } {
  let t = 1_000_000;
  return { now: () => t, sleep: async () => undefined, advance: (ms) => void (t += ms) };
}

/** The agent's own image.progress lines, as its stderr sink prints them (redacted). */
function agentLines(total: number | undefined, ticks: { bytes: number; wire: number; wireTotal: number | undefined; final?: boolean }[]): string[] {
  const lines: string[] = [];
  const c = clock();
  const ctx = createCtx({ clock: c, log: createLogger([(line, e) => lines.push(redactedLine(line, e))]) });
  const p = new Progress(ctx, { uri: 'http://agent:S3cret@10.20.0.2:8080/root.img.gz', device: '/dev/vda3' }, 2000, total);
  for (const t of ticks) {
    c.advance(2000);
    p.tick(t.bytes, t.wire, t.wireTotal, t.final);
  }
  return lines;
}

describe('parseImageProgress (lines from agent/image/progress.ts)', () => {
  it('reads bytes, total, percent, rate and done; the event time from ts', () => {
    const [line] = agentLines(400 * MiB, [{ bytes: 100 * MiB, wire: 30 * MiB, wireTotal: 120 * MiB }]);
    expect(line).not.toContain('S3cret');
    const p = parseImageProgress(line as string);
    expect(p).toMatchObject({ device: '/dev/vda3', bytes: 100 * MiB, totalBytes: 400 * MiB, percent: 25, done: false });
    expect(p?.rate).toBe(Math.round((100 * MiB) / 2));
    expect(Math.abs((p?.atMs ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it('a compressed stream of unknown raw size: percent of the download, no total; neither known: no percent', () => {
    const [wire, none, last] = agentLines(undefined, [
      { bytes: 64 * MiB, wire: 30 * MiB, wireTotal: 120 * MiB },
      { bytes: 64 * MiB, wire: 30 * MiB, wireTotal: undefined },
      { bytes: 200 * MiB, wire: 120 * MiB, wireTotal: undefined, final: true },
    ]);
    expect(parseImageProgress(wire as string)).toMatchObject({ totalBytes: undefined, percent: 25 });
    expect(parseImageProgress(none as string)).toMatchObject({ bytes: 64 * MiB, percent: undefined });
    expect(parseImageProgress(last as string)).toMatchObject({ bytes: 200 * MiB, done: true });
  });

  it('anything else is not progress, and never an error', () => {
    const lines: string[] = [];
    createLogger([(l) => lines.push(l)]).info('step.start', { step: 'image', note: 'image.progress follows' });
    for (const l of [...lines, 'not json image.progress', '{"event":"image.progress","bytes":"12"}', '', '[fuel-forge: 3 log lines dropped]']) {
      expect(parseImageProgress(l)).toBeUndefined();
    }
  });
});

describe('stageFeed (Stages lines)', () => {
  it('real Stages: ▶/✔/✘ lines stay, the live line lives between them and is gone after each', async () => {
    const out = stream(true);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    const stages = new Stages(stageFeed(pc));
    await stages.run('bootstrap ramdisk (build or cache)', 60_000, async () => {
      c.advance(1000);
      pc.update({ step: 'debootstrap (ramdisk root)' });
    });
    await expect(stages.run('node-1: PXE boot + discovery', 60_000, async () => {
      throw new Error('no DHCP offer');
    })).rejects.toThrow('no DHCP offer');

    const text = out.text();
    expect(text).toContain('bootstrap ramdisk (build or cache)  debootstrap (ramdisk root)');
    const screen = text.replace(/[^\n]*\r\x1b\[2K/g, '').split('\n');
    expect(screen).toEqual([
      '▶ bootstrap ramdisk (build or cache)',
      expect.stringMatching(/^✔ bootstrap ramdisk \(build or cache\) \(\d+\.\d s\)$/),
      '▶ node-1: PXE boot + discovery',
      expect.stringMatching(/^✘ node-1: PXE boot \+ discovery \(\d+\.\d s\): no DHCP offer$/),
      '',
    ]);
  });

  it('a structured event carries the timeout into the live line', () => {
    const out = stream(true);
    const pc = new ProgressConsole(out, { clock: clock(), refreshMs: 0 });
    stageFeed(pc)('▶ node-1: first boot (cloud-init)', { kind: 'start', stage: 'node-1: first boot (cloud-init)', timeoutMs: 600_000 });
    expect(pc.statusLine()).toContain('0s of 10m00s');
  });
});

describe('agentLineFeed (a node\'s agent lines)', () => {
  it('progress lines become plain progress in CI; other lines print as the orchestrator summarizes them', () => {
    const out = stream(false);
    const pc = new ProgressConsole(out, { refreshMs: 0 });
    pc.stageStart('node-1: provision', 20 * 60_000);
    const feed = agentLineFeed(pc);
    const step: string[] = [];
    createLogger([(l) => step.push(l)]).info('step.start', { step: 'image' });
    feed('node-1', step[0] as string);
    const ticks = Array.from({ length: 50 }, (_, i) => ({ bytes: (i + 1) * 8 * MiB, wire: 0, wireTotal: undefined, final: i === 49 }));
    for (const l of agentLines(400 * MiB, ticks)) feed('node-1', l);

    const lines = out.text().split('\n').filter(Boolean);
    expect(out.text()).not.toContain('\x1b');
    expect(lines[0]).toBe('  [node-1] info  step.start step=image');
    const progress = lines.filter((l) => l.startsWith('  … '));
    expect(progress[0]).toBe('  … node-1: provision: image → /dev/vda3, 2%');
    expect(progress.length).toBeLessThanOrEqual(11);
    expect(progress.at(-1)).toContain('100%');
    expect(lines.at(-1)).toMatch(/^ {2}\[node-1\] image → \/dev\/vda3: 419\.4 MB written, \d+\.\d MB\/s average$/);
  });
});

describe('buildStepSink (host build logs)', () => {
  it('build events set the step; warnings print, redacted; other events stay in the build log', () => {
    const out = stream(false);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    const log = createLogger([buildStepSink(pc)]);
    pc.stageStart('OS image, deploy profile (build or cache)', 60 * 60_000);
    c.advance(3000);
    log.info('build-image.debootstrap', { suite: 'bookworm', mirror: 'http://deb.debian.org/debian', packages: 40 });
    log.info('udev.settle', {});
    c.advance(200_000);
    log.info('build-image.pack', { root: '/cache/images/x.partial/rootfs' });
    log.warn('build-image.mirror-retry', { mirror: 'http://user:S3cret@mirror.local/debian' });
    log.info('build-image.checksums', {});
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      '  … OS image, deploy profile (build or cache): debootstrap (image root), 3s of 1h00m',
      '  … OS image, deploy profile (build or cache): pack ext4, checksum, compress, 3m23s of 1h00m',
      expect.stringMatching(/^ {2}warn +build-image\.mirror-retry mirror=http:\/\/(?!.*S3cret).*mirror\.local\/debian$/),
      '  … OS image, deploy profile (build or cache): checksums, 3m23s of 1h00m',
    ]);
  });
});
