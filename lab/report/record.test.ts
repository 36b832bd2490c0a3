import { describe, expect, it } from 'vitest';
import { ForgeError } from '../../agent/core/errors.js';
import { NodeRecord } from './record.js';

describe('NodeRecord (a node report filled while the run goes)', () => {
  it('keeps the published digests, adds what the agent reported it wrote, and passes only with every check ok', () => {
    const r = new NodeRecord('node-1', 'single-disk', 'image');
    r.expectImage({ raw_md5: 'a'.repeat(32), raw_sha256: 'b'.repeat(64) });
    r.imageWritten(undefined);
    expect(r.report.images).toEqual([{ target: '/', expected: { md5: 'a'.repeat(32), sha256: 'b'.repeat(64) } }]);
    r.imageWritten({ images: [{ md5: 'c'.repeat(32), sha256: 'd'.repeat(64) }] });
    expect(r.report.images[0]?.found).toEqual({ md5: 'c'.repeat(32), sha256: 'd'.repeat(64) });
    r.diskFound(1, { label: 'gpt', sectorSize: 512, partitions: [] });
    expect(r.report.found).toEqual([undefined, { label: 'gpt', sectorSize: 512, partitions: [] }]);
    r.addChecks([{ name: 'a', ok: true, detail: '' }]);
    expect(r.finish('console').ok).toBe(true);
    r.addChecks([{ name: 'b', ok: false, detail: 'x' }]);
    expect(r.finish().ok).toBe(false);
  });

  it('a failure keeps its code and message, the agent\'s last lines and the console tail', () => {
    const r = new NodeRecord('node-2', 'ceph-osd');
    for (let i = 0; i < 500; i++) r.agentLine(`line ${i}`);
    r.fail(new ForgeError('IMAGE_WRITE_FAILED', 'write failed'), 'x'.repeat(20_000) + 'tail');
    expect(r.report).toMatchObject({ ok: false, error: { code: 'IMAGE_WRITE_FAILED', message: 'write failed' } });
    expect(r.report.agentLog?.at(-1)).toBe('line 499');
    expect(r.report.agentLog?.length).toBeLessThan(500);
    expect(r.report.console?.endsWith('tail')).toBe(true);
    expect(r.report.console?.length).toBeLessThan(20_004);
  });
});
