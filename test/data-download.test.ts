// Downloads against a local HTTP server on 127.0.0.1 serving the real MNIST test-set files (whose
// published md5/sha256 are in the catalog) and every way a mirror can fail: 404, an HTML page, a wrong
// checksum, a connection cut mid-file, a stalled transfer, a redirect. A failed attempt must never leave
// a file that passes as complete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OFFICIAL, type OfficialSpec } from '../src/data/catalog.ts';
import { hashFile } from '../src/data/checksum.ts';
import { fetchDataset } from '../src/data/fetch.ts';
import { dataFetchCommand } from '../src/commands/data.ts';
import { VdsError } from '../src/util/errors.ts';

const FIX = path.join(import.meta.dirname, 'fixtures', 'mnist');
const files = OFFICIAL.mnist.files.filter((f) => f.name.startsWith('t10k')); // real files, real checksums
const spec: OfficialSpec = { ...OFFICIAL.mnist, name: 'mnist-t10k', mirrors: [], files };
const bytes = new Map(files.map((f) => [f.name, readFileSync(path.join(FIX, f.name))]));

let server: http.Server;
let base = '';
const requests: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const [, mode, name] = (req.url ?? '').split('/');
    const body = bytes.get(name);
    if (!body || mode === '404') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const send = (b: Buffer): void => void res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length }).end(b);
    switch (mode) {
      case 'ok':
        return send(body);
      case 'bad': {
        const b = Buffer.from(body);
        b[b.length >> 1] ^= 0xff; // same size, one byte wrong
        return send(b);
      }
      case 'html':
        return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Forbidden</body></html>');
      case 'redirect':
        return void res.writeHead(302, { location: `/ok/${name}` }).end();
      case 'cut':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        return void res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        return void res.write(body.subarray(0, 1000)); // and never more
      default:
        res.writeHead(500).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const fresh = (): string => mkdtempSync(path.join(tmpdir(), 'vds-dl-'));
const m = (...modes: string[]): string[] => modes.map((x) => `${base}/${x}/`);
const leftovers = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.part') || f.endsWith('.tmp')) : []);

test('falls back through 404, cut connection, bad checksum and HTML page to a working mirror', async () => {
  const dataDir = fresh();
  const log: string[] = [];
  const r = await fetchDataset(spec, { dataDir, mirrors: m('404', 'cut', 'bad', 'html', 'redirect'), log: (x) => log.push(x) });
  assert.deepEqual(r.files.map((f) => f.outcome), ['downloaded', 'downloaded']);
  assert.ok(r.files.every((f) => f.url?.includes('/redirect/')));
  for (const f of files) assert.equal((await hashFile(path.join(dataDir, spec.name, f.name))).md5, f.md5);
  assert.deepEqual(leftovers(path.join(dataDir, spec.name)), []);
  const text = log.join('\n');
  assert.match(text, /404/);
  assert.match(text, /connection closed after|aborted|ECONNRESET|socket/i);
  assert.match(text, /checksum mismatch/);
  assert.match(text, /HTML page/);
});

test('every mirror failing leaves no file (and no .part) and names each failure', async () => {
  const dataDir = fresh();
  await assert.rejects(fetchDataset(spec, { dataDir, mirrors: m('404', 'cut', 'bad') }), (e: unknown) => {
    assert.ok(e instanceof VdsError);
    assert.match(e.message, /could not download t10k-images-idx3-ubyte\.gz from any mirror/);
    assert.match(e.message, /\/404\/.*HTTP 404[\s\S]*\/cut\/[\s\S]*\/bad\/.*checksum mismatch/);
    assert.ok(e.hint?.includes('copy the official file'));
    return true;
  });
  const dir = path.join(dataDir, spec.name);
  assert.equal(existsSync(path.join(dir, 't10k-images-idx3-ubyte.gz')), false);
  assert.deepEqual(leftovers(dir), []);
});

test('a stalled transfer times out and the next mirror is used', async () => {
  const dataDir = fresh();
  const log: string[] = [];
  const r = await fetchDataset(spec, { dataDir, mirrors: m('stall', 'ok'), timeoutMs: 300, log: (x) => log.push(x) });
  assert.ok(r.files.every((f) => f.url?.includes('/ok/')));
  assert.match(log.join('\n'), /timed out/);
});

test('hand-copied files are accepted by checksum without touching the network; bad ones are replaced', async () => {
  const dataDir = fresh();
  const dir = path.join(dataDir, spec.name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(FIX, files[0].name), path.join(dir, files[0].name));
  writeFileSync(path.join(dir, files[1].name), readFileSync(path.join(FIX, files[1].name)).subarray(0, 100)); // truncated copy
  const before = requests.length;
  const r = await fetchDataset(spec, { dataDir, mirrors: m('ok') });
  assert.deepEqual(r.files.map((f) => f.outcome), ['present', 'downloaded']);
  assert.deepEqual(requests.slice(before), [`/ok/${files[1].name}`]);
  assert.equal((await hashFile(path.join(dir, files[1].name))).md5, files[1].md5);
});

test('offline: no request, and the error lists what is missing and where to get it', async () => {
  const dataDir = fresh();
  const before = requests.length;
  await assert.rejects(fetchDataset(spec, { dataDir, offline: true, mirrors: m('ok') }), (e: unknown) => {
    assert.ok(e instanceof VdsError);
    assert.match(e.message, /offline, and 2 mnist-t10k file\(s\) are not available/);
    assert.ok(e.message.includes(`t10k-images-idx3-ubyte.gz: missing; get it from ${base}/ok/t10k-images-idx3-ubyte.gz`));
    assert.ok(e.hint?.includes('copy the files into'));
    return true;
  });
  assert.equal(requests.length, before);
});

test('vds data fetch --offline with the files copied by hand: names only the missing official file', async () => {
  const dataDir = fresh();
  const dir = path.join(dataDir, 'mnist');
  mkdirSync(dir, { recursive: true });
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-labels-idx1-ubyte.gz']) copyFileSync(path.join(FIX, f), path.join(dir, f));
  await assert.rejects(dataFetchCommand({ datasets: ['mnist'], dataDir, offline: true }), (e: unknown) => {
    assert.ok(e instanceof VdsError);
    assert.match(e.message, /1 mnist file\(s\)/);
    assert.match(e.message, /train-images-idx3-ubyte\.gz: missing; get it from https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\/train-images-idx3-ubyte\.gz/);
    return true;
  });
  await assert.rejects(dataFetchCommand({ datasets: ['cifar'], dataDir, offline: true }), /unknown dataset "cifar"/);
});
