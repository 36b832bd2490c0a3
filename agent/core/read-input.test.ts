import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForgeError } from './errors.js';
import { MAX_INPUT_BYTES, readInputFile, type ReadInputOptions } from './read-input.js';
import { ExecaRunner } from './runner.js';

const dir = mkdtempSync(join(tmpdir(), 'forge-read-input-'));
const fifo = join(dir, 'fifo');
const sock = join(dir, 'sock');
let server: Server;

beforeAll(async () => {
  await new ExecaRunner().run(['mkfifo', fifo]);
  server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(path: string, opts: ReadInputOptions = { what: '--input' }): Promise<ForgeError> {
  const e = await readInputFile(path, opts).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ForgeError);
  return e as ForgeError;
}

describe('readInputFile', () => {
  it('reads a regular file, and one reached through a symlink', async () => {
    const f = join(dir, 'ok.json');
    writeFileSync(f, '{"a": "é"}');
    symlinkSync(f, join(dir, 'link.json'));
    expect(await readInputFile(f)).toBe('{"a": "é"}');
    expect(await readInputFile(join(dir, 'link.json'))).toBe('{"a": "é"}');
    writeFileSync(join(dir, 'empty.json'), '');
    expect(await readInputFile(join(dir, 'empty.json'))).toBe('');
  });

  it('refuses /dev/zero as a character device, without reading it', async () => {
    const e = await refusal('/dev/zero');
    expect(e).toMatchObject({ code: 'INPUT_UNREADABLE', field: '--input', details: { path: '/dev/zero' } });
    expect(e.message).toBe('--input "/dev/zero": is a character device, not a regular file');
  });

  it('refuses a FIFO promptly instead of waiting for a writer', async () => {
    const started = Date.now();
    const e = await refusal(fifo, { what: '--inventory' });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e).toMatchObject({ code: 'INPUT_UNREADABLE', field: '--inventory' });
    expect(e.message).toBe(`--inventory ${JSON.stringify(fifo)}: is a FIFO (named pipe), not a regular file`);
  }, 5000);

  it('refuses a directory, a socket and a symlink to a device', async () => {
    mkdirSync(join(dir, 'd'));
    expect((await refusal(join(dir, 'd'))).message).toMatch(/: is a directory, not a regular file$/);
    expect((await refusal(sock)).message).toMatch(/: is a socket, not a regular file$/);
    symlinkSync('/dev/zero', join(dir, 'zero.json'));
    expect((await refusal(join(dir, 'zero.json'))).message).toMatch(/zero\.json": is a character device, not a regular file$/);
  });

  it(`refuses a file over the cap (${MAX_INPUT_BYTES} bytes) and takes one at the cap`, async () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, MAX_INPUT_BYTES + 1); // sparse: costs no disk
    const e = await refusal(big, { what: '--plan' });
    expect(e).toMatchObject({ code: 'INPUT_UNREADABLE', field: '--plan', details: { size: MAX_INPUT_BYTES + 1, maxBytes: MAX_INPUT_BYTES } });
    expect(e.message).toBe(`--plan ${JSON.stringify(big)}: is 16.0 MiB (16777217 bytes), over the 16 MiB limit for input files`);
    const small = join(dir, 'small.json');
    writeFileSync(small, 'x'.repeat(100));
    expect(await readInputFile(small, { maxBytes: 100 })).toHaveLength(100);
    expect((await refusal(small, { maxBytes: 99 })).message).toMatch(/: is 100 bytes, over the 99 bytes limit for input files$/);
  });

  it('stops one byte past the cap when the size on stat is not the size read (/proc files say 0)', async () => {
    const e = await refusal('/proc/self/maps', { maxBytes: 64 });
    expect(e.message).toBe('"/proc/self/maps": is larger than the 64 bytes limit for input files');
    expect(e.field).toBe('/proc/self/maps');
  });

  it('names the errno of a missing or unreadable path and escapes a hostile path', async () => {
    const e = await refusal(join(dir, 'missing.json'));
    expect(e.message).toMatch(/missing\.json": cannot read: ENOENT \(no such file or directory\)$/);
    expect((await refusal(join(dir, 'ok.json', 'x'))).message).toMatch(/cannot read: ENOTDIR/);
    const evil = join(dir, 'a\nb\u0000c.json');
    const x = await refusal(evil);
    expect(x.message).not.toMatch(/[\n\u0000]/);
    expect(x.message).toContain('a\\nb\\u0000c.json');
  });

  it('refuses text that is not UTF-8 instead of replacing bytes', async () => {
    const f = join(dir, 'latin1.json');
    writeFileSync(f, Buffer.from([0x7b, 0x22, 0x70, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d])); // {"p":"\xe9"}
    expect((await refusal(f)).message).toMatch(/latin1\.json": is not UTF-8 text$/);
  });
});
