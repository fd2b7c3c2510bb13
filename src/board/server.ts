// `vds board`'s web server (node:http: a handful of read-only routes need no framework). It reads the results
// directory and never writes into it. The page and its chart library are served from this package and
// node_modules, so it works on an offline cluster node. Live updates: every second the watcher stats the
// files each run's view is made of, reads again only the runs whose files changed, and tells the pages which
// (server-sent events); the directory tree itself is walked again every few seconds for new runs and sweeps.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENT_TYPES, dirInside, resolveInside } from './files.ts';
import { runView } from './run-view.ts';
import { sweepView } from './sweep-view.ts';
import { fingerprint, TreeReader, type Tree } from './tree.ts';

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const ECHARTS = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
const ASSETS: Record<string, string> = {
  '/': path.join(PAGE_DIR, 'index.html'),
  '/assets/board.js': path.join(PAGE_DIR, 'board.js'),
  '/assets/board.css': path.join(PAGE_DIR, 'board.css'),
  '/assets/echarts.min.js': ECHARTS,
};

export interface BoardOptions {
  root: string; // the results directory, resolved (realpath)
  host: string;
  port: number;
  pollMs?: number; // how often run files are looked at (default 1000)
  rescanMs?: number; // how often the tree is walked for new runs (default 5000)
}

export interface Board {
  server: Server;
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}
const json = (res: ServerResponse, value: unknown) => send(res, 200, JSON.stringify(value), CONTENT_TYPES['.json']);

export async function startBoard(o: BoardOptions): Promise<Board> {
  const reader = new TreeReader(o.root);
  let tree: Tree = reader.read();
  // ids from the tree the server walked itself (dirInside is for the ids requests bring)
  const fingerprintOf = (id: string): string => fingerprint(path.join(o.root, ...id.split('/')));
  const prints = new Map<string, string>(); // run id → fingerprint at the last look
  for (const r of tree.runs) prints.set(r.id, fingerprintOf(r.id));
  const clients = new Set<ServerResponse>();
  let version = 0;

  const broadcast = (event: { version: number; runs: string[]; tree: boolean }) => {
    const line = `data: ${JSON.stringify(event)}\n\n`;
    for (const c of clients) c.write(line);
  };
  // errors here must never stop the server: a directory may vanish or be half-written mid-look
  const look = (rescan: boolean) => {
    try {
      const before = new Set(tree.runs.map((r) => r.id));
      if (rescan) tree = reader.read();
      const changed: string[] = [];
      for (const r of tree.runs) {
        const p = fingerprintOf(r.id);
        if (prints.get(r.id) !== p) {
          prints.set(r.id, p);
          changed.push(r.id);
        }
      }
      const newRuns = tree.runs.some((r) => !before.has(r.id)) || before.size !== tree.runs.length;
      if (changed.length && !rescan) tree = reader.refresh(tree, changed); // the list follows the files
      if (changed.length || newRuns) broadcast({ version: ++version, runs: changed, tree: true });
    } catch {
      /* the next look tries again */
    }
  };
  let ticks = 0;
  const pollMs = o.pollMs ?? 1000;
  const rescanEvery = Math.max(1, Math.round((o.rescanMs ?? 5000) / pollMs));
  const timer = setInterval(() => look(++ticks % rescanEvery === 0), pollMs);
  // keep-alive comments stop proxies (and ssh tunnels) from closing an idle event stream
  const keepAlive = setInterval(() => {
    for (const c of clients) c.write(': keep-alive\n\n');
  }, 15_000);

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'read-only: GET only\n');
    const url = new URL(req.url ?? '/', 'http://board');
    const raw = (req.url ?? '/').split('?')[0];
    if (ASSETS[url.pathname]) {
      const file = ASSETS[url.pathname];
      return send(res, 200, readFileSync(file), CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream');
    }
    if (url.pathname === '/favicon.ico') return send(res, 204, '');
    if (url.pathname === '/api/tree') return json(res, { ...tree, version });
    if (url.pathname === '/api/run' || url.pathname === '/api/sweep') {
      const id = url.searchParams.get('id') ?? '';
      const dir = dirInside(o.root, id);
      if (!dir) return send(res, 404, `no such ${url.pathname.slice(5)} in the results directory: ${id}\n`);
      if (url.pathname === '/api/sweep') return json(res, sweepView(dir));
      const sweep = tree.runs.find((r) => r.id === id)?.sweep ?? null;
      return json(res, runView(o.root, dir, sweep));
    }
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`data: ${JSON.stringify({ version, runs: [], tree: false })}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
      return;
    }
    if (raw.startsWith('/files/')) {
      // the raw path, still encoded: `%2e%2e` must be judged after decoding, and only once
      const r = resolveInside(o.root, raw.slice('/files/'.length));
      if (!r.ok) return send(res, r.status, `${r.reason}\n`);
      let st;
      try {
        st = statSync(r.file);
      } catch {
        return send(res, 404, 'not found\n');
      }
      if (!st.isFile()) return send(res, 404, 'not a file\n');
      res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(r.file)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      if (req.method === 'HEAD') return res.end();
      createReadStream(r.file).on('error', () => res.destroy()).pipe(res);
      return;
    }
    send(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      // one bad request or file is that request's error, never the server's end
      if (!res.headersSent) send(res, 500, `${e instanceof Error ? e.message : String(e)}\n`);
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer);
        clearInterval(keepAlive);
        for (const c of clients) c.end();
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
