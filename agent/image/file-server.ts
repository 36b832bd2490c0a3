// A small static HTTP server on 127.0.0.1 with Range support, for the integration
// tests and the benchmark (a real socket, unlike msw). Not used by the agent itself.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

export interface FileServer extends AsyncDisposable {
  url: string;
  /** Requests seen, newest last: method, path and Range header. */
  requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function serveDir(root: string): Promise<FileServer> {
  const requests: FileServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push({ path, range: req.headers.range });
    const file = join(root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    stat(file).then(
      (st) => {
        if (!st.isFile()) {
          res.writeHead(404).end();
          return;
        }
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        if (start > st.size) {
          res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
          return;
        }
        const headers: Record<string, string | number> = { 'content-length': st.size - start, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
        if (m) headers['content-range'] = `bytes ${start}-${st.size - 1}/${st.size}`;
        res.writeHead(m ? 206 : 200, headers);
        createReadStream(file, { start, highWaterMark: 1 << 20 }).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}`, requests, close, [Symbol.asyncDispose]: close };
}
