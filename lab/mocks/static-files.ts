// Static file serving with HEAD and single Range requests (the agent resumes
// image downloads with Range), confined to one root directory, plus fault
// injection for the lab's bad paths (a connection cut mid-download, a server down).
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { HttpError } from './http.js';

export interface StaticFault {
  /** Applies to request paths matching this. */
  path: RegExp;
  /** Cut the connection after this many body bytes (simulates the server going away). */
  cutAfterBytes?: number;
  /** Answer with this HTTP status instead of the file. */
  status?: number;
  /** How many requests the fault hits before it clears itself (default 1). */
  times?: number;
}

export interface StaticLogEntry {
  path: string;
  range: string | undefined;
  status: number;
  bytes: number;
}

export class StaticFiles {
  readonly faults: StaticFault[] = [];
  readonly requests: StaticLogEntry[] = [];
  constructor(readonly root: string) {}

  #fault(path: string): StaticFault | undefined {
    const i = this.faults.findIndex((f) => f.path.test(path));
    if (i < 0) return undefined;
    const f = this.faults[i] as StaticFault;
    const left = (f.times ?? 1) - 1;
    if (left <= 0) this.faults.splice(i, 1);
    else f.times = left;
    return f;
  }

  async serve(req: IncomingMessage, res: ServerResponse, relPath: string): Promise<void> {
    const root = resolve(this.root);
    const file = resolve(join(root, decodeURIComponent(relPath)));
    if (file !== root && !file.startsWith(root + sep)) throw new HttpError(403, 'outside the served root');
    const entry: StaticLogEntry = { path: relPath, range: req.headers.range, status: 0, bytes: 0 };
    this.requests.push(entry);
    const fault = this.#fault(relPath);
    if (fault?.status) {
      entry.status = fault.status;
      throw new HttpError(fault.status, `injected fault for ${relPath}`);
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      entry.status = 404;
      throw new HttpError(404, `${relPath}: not found`);
    }
    if (!st.isFile()) throw new HttpError(404, `${relPath}: not a file`);
    let start = 0;
    let end = st.size - 1;
    let status = 200;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) throw new HttpError(416, `unsupported range ${range}`);
      if (m[1] === '') {
        start = Math.max(0, st.size - Number(m[2]));
      } else {
        start = Number(m[1]);
        if (m[2] !== '') end = Math.min(end, Number(m[2]));
      }
      if (start > end || start >= st.size) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${st.size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string | number> = {
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      'last-modified': st.mtime.toUTCString(),
      etag: `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`,
      'content-type': 'application/octet-stream',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
    entry.status = status;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = fault?.cutAfterBytes;
    const stream = createReadStream(file, { start, end: cut === undefined ? end : Math.min(end, start + cut - 1) });
    await new Promise<void>((resolveDone, reject) => {
      stream.on('data', (c) => {
        entry.bytes += (c as Buffer).length;
      });
      stream.on('error', reject);
      stream.on('end', () => {
        if (cut !== undefined) res.destroy();
        else res.end();
        resolveDone();
      });
      stream.pipe(res, { end: false });
    });
  }
}
