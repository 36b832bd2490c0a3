import { describe, expect, it } from 'vitest';
import { formatDuration, formatEta, formatRate, ProgressConsole, renderBar, type ProgressStream } from './progress.js';

const MiB = 1024 * 1024;

/** A terminal or a CI log that records what was written. */
function stream(tty: boolean, columns = 120): ProgressStream & { chunks: string[]; text(): string } {
  const chunks: string[] = [];
  return { isTTY: tty, columns, write: (c: string) => chunks.push(c), chunks, text: () => chunks.join('') };
}

function clock(start = 1_000_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** What a terminal shows: each `\r\x1b[2K` erases the line being written, `\n` ends it. */
function screen(text: string): string[] {
  const lines: string[] = [''];
  for (const part of text.split(/(\r\x1b\[2K|\n)/)) {
    if (part === '\r\x1b[2K') lines[lines.length - 1] = '';
    else if (part === '\n') lines.push('');
    else lines[lines.length - 1] += part;
  }
  return lines;
}

describe('formatting', () => {
  it('rates in decimal units, durations and ETAs short, bars to width', () => {
    expect(formatRate((100 * MiB) / 2)).toBe('52.4 MB/s');
    expect(formatRate(850_000)).toBe('850 kB/s');
    expect(formatRate(1.25e9)).toBe('1.3 GB/s');
    expect(formatRate(12)).toBe('12 B/s');
    expect(formatDuration(42_400)).toBe('42s');
    expect(formatDuration(185_000)).toBe('3m05s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
    expect(formatEta(65_000)).toBe('ETA 1m05s');
    expect(formatEta(undefined)).toBe('ETA ?');
    expect(renderBar(50, 10)).toBe('█████░░░░░');
    expect(renderBar(150, 4)).toBe('████');
    expect(renderBar(-3, 4)).toBe('░░░░');
  });
});

describe('not a TTY (CI logs)', () => {
  it('writes no escape codes and at most one progress line per 10 % over 1000 updates', () => {
    const out = stream(false);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.line('▶ node-1: provision');
    pc.stageStart('node-1: provision', 20 * 60_000);
    for (let i = 1; i <= 1000; i++) {
      c.advance(10);
      pc.update({ step: 'image → vda3', percent: i / 10, bytes: i * MiB, totalBytes: 1000 * MiB });
    }
    pc.stageEnd();
    pc.line('✔ node-1: provision (10.0 s)');

    const text = out.text();
    expect(text).not.toContain('\x1b');
    expect(text).not.toContain('\r');
    const progress = text.split('\n').filter((l) => l.startsWith('  … '));
    // The step's first line, then one per 10 % crossed: 10 %, 20 % … 100 %.
    expect(progress.map((l) => /(\d+)%/.exec(l)?.[1])).toEqual(['0', '10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(progress[0]).toBe('  … node-1: provision: image → vda3, 0%');
    // 1 MiB per 10 ms = 104.9 MB/s.
    expect(progress[5]).toContain('104.9 MB/s');
    expect(text.startsWith('▶ node-1: provision\n')).toBe(true);
    expect(text.endsWith('✔ node-1: provision (10.0 s)\n')).toBe(true);
  });

  it('a wait without percent prints its elapsed time against the timeout every 30 s, not more', () => {
    const out = stream(false);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.stageStart('node-1: PXE boot + discovery', 6 * 60_000);
    for (let s = 1; s <= 95; s++) {
      c.advance(1000);
      pc.tick();
    }
    pc.stageEnd();
    expect(out.chunks).toEqual([
      '  … node-1: PXE boot + discovery: 30s of 6m00s\n',
      '  … node-1: PXE boot + discovery: 1m00s of 6m00s\n',
      '  … node-1: PXE boot + discovery: 1m30s of 6m00s\n',
    ]);
  });

  it('a build step prints when it changes', () => {
    const out = stream(false);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.stageStart('OS image (build or cache)', 60 * 60_000);
    c.advance(2000);
    pc.update({ step: 'debootstrap' });
    c.advance(1000);
    pc.update({ step: 'debootstrap' });
    c.advance(5000);
    pc.update({ step: 'pack' });
    expect(out.chunks).toEqual(['  … OS image (build or cache): debootstrap, 2s of 1h00m\n', '  … OS image (build or cache): pack, 8s of 1h00m\n']);
  });
});

describe('on a TTY', () => {
  it('redraws one status line in place with percent, a rate from bytes over the clock, an ETA and elapsed time', () => {
    const out = stream(true);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.stageStart('node-1: provision', 20 * 60_000);
    // 100 MiB in 2 s of a 400 MiB image, 100 updates.
    for (let i = 1; i <= 100; i++) {
      c.advance(20);
      pc.update({ step: 'image → vda3', bytes: i * MiB, totalBytes: 400 * MiB });
    }
    const last = out.chunks.at(-1) as string;
    expect(last.startsWith('\r\x1b[2K')).toBe(true);
    expect(last).toContain('node-1: provision');
    expect(last).toContain('image → vda3');
    expect(last).toContain('25.0%');
    expect(last).toMatch(/5[12]\.\d MB\/s/);
    // 300 MiB left at ~52 MB/s: about 6 s.
    expect(last).toMatch(/ETA [56]s/);
    expect(last).toContain('2s of 20m00s');
    expect(last).toContain('█████░░░░░░░░░░░░░░░');
    // ~10 redraws a second at most: 2 s of updates, not 100 writes.
    expect(out.chunks.length).toBeLessThanOrEqual(22);
    expect(out.chunks.every((ch) => !ch.includes('\n'))).toBe(true);
  });

  it('ETA from percent over time when bytes are unknown', () => {
    const out = stream(true);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.stageStart('write', undefined);
    pc.update({ percent: 10 });
    c.advance(10_000);
    pc.update({ percent: 20 });
    // 10 % per 10 s, 80 % left.
    expect(pc.statusLine()).toContain('ETA 1m20s');
    expect(pc.statusLine()).not.toContain(' of ');
  });

  it('prints permanent lines intact and in order above the status line, and clears it at the end', () => {
    const out = stream(true);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
    pc.line('▶ first boot');
    pc.stageStart('node-1: first boot (cloud-init)', 10 * 60_000);
    c.advance(61_000);
    pc.tick();
    pc.line('  [node-1] info  step.start step=partition');
    pc.line('  [node-1] info  step.done step=partition');
    c.advance(1_000);
    pc.tick();
    pc.stageEnd();
    pc.line('✔ first boot (62.0 s)');
    pc.close();

    expect(out.text()).toContain('1m01s of 10m00s');
    expect(screen(out.text())).toEqual([
      '▶ first boot',
      '  [node-1] info  step.start step=partition',
      '  [node-1] info  step.done step=partition',
      '✔ first boot (62.0 s)',
      '',
    ]);
    // The status was erased before the last line, and nothing was drawn after it.
    expect(out.chunks.at(-2)).toBe('\r\x1b[2K');
    expect(out.chunks.at(-1)).toBe('✔ first boot (62.0 s)\n');
  });

  it('fits the status line to the terminal: the bar gives way, then the end is cut', () => {
    const c = clock();
    const wide = stream(true, 200);
    const narrow = stream(true, 50);
    for (const out of [wide, narrow]) {
      const pc = new ProgressConsole(out, { clock: c, refreshMs: 0 });
      pc.stageStart('OS image, deploy profile (build or cache) and a long name', 60 * 60_000);
      c.advance(1000);
      pc.update({ step: 'pack ext4, checksum, compress', percent: 40 });
    }
    const shown = (s: ReturnType<typeof stream>): string => (s.chunks.at(-1) as string).replace('\r\x1b[2K', '');
    expect(shown(wide)).toContain('████████░░░░');
    expect(shown(narrow).length).toBeLessThanOrEqual(49);
    expect(shown(narrow)).not.toContain('█');
    expect(shown(narrow).endsWith('…')).toBe(true);
  });

  it('strips control characters a node could send, so the status line stays one line', () => {
    const out = stream(true);
    const pc = new ProgressConsole(out, { clock: clock(), refreshMs: 0 });
    pc.stageStart('node-1: provision');
    pc.update({ step: 'evil\r\x1b[31mred\nline' });
    pc.line('a\x1b[2Jb\r');
    const drawn = out.chunks.join('').replaceAll('\r\x1b[2K', '');
    expect(drawn).not.toMatch(/[\r\x1b]/);
    expect(screen(out.text())[0]).toBe('a[2Jb');
  });

  it('the refresh timer advances elapsed time with no updates, and stops with the stage', async () => {
    const out = stream(true);
    const c = clock();
    const pc = new ProgressConsole(out, { clock: c, refreshMs: 5 });
    pc.stageStart('node-1: PXE boot + discovery', 6 * 60_000);
    c.advance(3_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(out.chunks.at(-1)).toContain('3s of 6m00s');
    pc.stageEnd();
    const n = out.chunks.length;
    c.advance(3_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(out.chunks.length).toBe(n);
  });
});
