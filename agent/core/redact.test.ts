// URL credentials and secret query values are removed from any printed text, and
// only those: the rest of the URL, and text that merely looks similar, stays.
import { describe, expect, it } from 'vitest';
import { ForgeError } from './errors.js';
import { createLogger, memorySink, type LogEvent } from './log.js';
import { redactDeep, redactUrl, redactUrlsIn } from './redact.js';

describe('redactUrl / redactUrlsIn', () => {
  it('removes userinfo, keeping scheme, host, port, path', () => {
    expect(redactUrl('http://admin:s3cret@10.20.0.2:8080/imgs/root.img.gz')).toBe('http://***@10.20.0.2:8080/imgs/root.img.gz');
    expect(redactUrl('https://token@host/x')).toBe('https://***@host/x');
    expect(redactUrl(new URL('http://u:p@h/a'))).toBe('http://***@h/a');
    // The password may hold '@' and quotes: everything up to the last '@' of the authority goes.
    expect(redactUrl('http://u:p@ss"w@host/a@b')).toBe('http://***@host/a@b');
    expect(redactUrl('http://host/path/with@sign')).toBe('http://host/path/with@sign');
    expect(redactUrl('file:///srv/img.gz')).toBe('file:///srv/img.gz');
  });

  it('removes the values of secret-looking query parameters only', () => {
    expect(redactUrl('http://h/i.img?token=abc&x=1&X-Amz-Signature=f00&api_key=k&sig=s&password=p#frag'))
      .toBe('http://h/i.img?token=***&x=1&X-Amz-Signature=***&api_key=***&sig=***&password=***#frag');
    expect(redactUrl('http://h/i.img?version=2&arch=amd64')).toBe('http://h/i.img?version=2&arch=amd64');
  });

  it('finds every URL inside free text, JSON-quoted or not, and is idempotent', () => {
    const text = `image "http://a:b@h1/x.gz" -> /dev/sda3: retry ftp://c:d@h2/y?sig=zz then http://h3/z (3 attempts)`;
    const once = redactUrlsIn(text);
    expect(once).toBe(`image "http://***@h1/x.gz" -> /dev/sda3: retry ftp://***@h2/y?sig=*** then http://h3/z (3 attempts)`);
    expect(redactUrlsIn(once)).toBe(once);
    expect(redactUrlsIn('console=ttyS0 root=UUID=1 user@host no url')).toBe('console=ttyS0 root=UUID=1 user@host no url');
  });

  it('stays linear on long hostile text', () => {
    const t0 = Date.now();
    redactUrlsIn('a'.repeat(1 << 20) + '://' + 'b'.repeat(1 << 20) + '?' + 'k='.repeat(1 << 18));
    redactUrlsIn('x://'.repeat(1 << 18));
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

describe('redactDeep', () => {
  it('copies objects with every string redacted, the original untouched', () => {
    const plan = { images: [{ uri: 'http://u:pw@h/i.gz', mount: '/' }], n: 1, ok: true, none: null };
    const out = redactDeep(plan);
    expect(out).toEqual({ images: [{ uri: 'http://***@h/i.gz', mount: '/' }], n: 1, ok: true, none: null });
    expect(plan.images[0]?.uri).toBe('http://u:pw@h/i.gz');
  });

  it('serialises errors (toJSON) and survives cycles', () => {
    const e = new ForgeError('IMAGE_FETCH_FAILED', 'image http://u:pw@h/i.gz: HTTP 500', { details: { uri: 'http://u:pw@h/i.gz' } });
    const cyc: Record<string, unknown> = { a: 'http://u:pw@h/' };
    cyc.self = cyc;
    expect(JSON.stringify(redactDeep({ e, cyc }))).not.toContain('pw');
  });
});

describe('log sinks', () => {
  it('memorySink (like the stderr and file sinks) sees events with credentials removed', () => {
    const events: LogEvent[] = [];
    const log = createLogger([memorySink(events)]);
    log.warn('image.retry', { uri: 'http://u:pw@h/i.gz?token=t0k', reason: 'ECONNRESET' });
    expect(events[0]).toMatchObject({ event: 'image.retry', uri: 'http://***@h/i.gz?token=***', reason: 'ECONNRESET' });
  });
});
