// Downloading one file: try each URL in order into `<dest>.part`, hashing while writing, and rename to
// `dest` only after size and checksums pass. A failure (HTTP error, HTML page, stalled or cut connection,
// wrong checksum) deletes the .part and moves on to the next mirror, so an interrupted download never
// leaves a file that passes as complete.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { VdsError } from '../util/errors.ts';
import type { FileSpec } from './catalog.ts';
import { digestProblem, type FileDigest } from './checksum.ts';

export interface DownloadHooks {
  timeoutMs?: number; // no response or no byte for this long aborts the attempt (default 30 s)
  onStart?: (url: string, total: number | undefined) => void;
  onBytes?: (received: number) => void;
  onFail?: (url: string, reason: string) => void;
}

export interface Downloaded {
  url: string;
  digest: FileDigest;
}

function reason(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  if (err.name === 'AbortError' || err.name === 'TimeoutError') return 'timed out';
  const cause = err.cause ? `: ${err.cause.code ?? ''} ${err.cause.message}`.replace(/\s+/g, ' ') : '';
  return `${err.message}${cause}`;
}

/** GET with redirects followed; node's http(s) rather than fetch, which would silently un-gzip a body
 * served with Content-Encoding: gzip and so change the bytes whose checksum we verify. */
function get(url: string, signal: AbortSignal, redirects = 5): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(url, { signal, headers: { 'user-agent': 'vds-data-fetch', 'accept-encoding': 'identity' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects === 0) return reject(new Error('too many redirects'));
        return resolve(get(new URL(res.headers.location, url).href, signal, redirects - 1));
      }
      resolve(res);
    });
    req.on('error', reject);
  });
}

async function attempt(url: string, part: string, spec: FileSpec, h: DownloadHooks): Promise<FileDigest> {
  const timeoutMs = h.timeoutMs ?? 30_000;
  const ctrl = new AbortController();
  let timedOut = false;
  const expire = (): void => {
    timedOut = true;
    ctrl.abort();
  };
  let timer = setTimeout(expire, timeoutMs);
  const alive = (): void => {
    clearTimeout(timer);
    timer = setTimeout(expire, timeoutMs);
  };
  const out = await fs.open(part, 'w');
  let res: IncomingMessage | undefined;
  try {
    res = await get(url, ctrl.signal);
    const status = res.statusCode ?? 0;
    if (status !== 200) throw new Error(`HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    if ((res.headers['content-type'] ?? '').includes('text/html')) throw new Error('the server sent an HTML page instead of the file');
    const lenHeader = res.headers['content-length'];
    const total = lenHeader ? Number(lenHeader) : undefined;
    if (total !== undefined && spec.size !== undefined && total !== spec.size) {
      throw new Error(`the server announces ${total} bytes, the file has ${spec.size}`);
    }
    h.onStart?.(url, total ?? spec.size);
    const md5 = createHash('md5');
    const sha = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        alive();
        md5.update(chunk);
        sha.update(chunk);
        size += chunk.length;
        await out.write(chunk);
        h.onBytes?.(size);
      }
    } catch (e) {
      if (timedOut) throw new Error(`timed out: no data for ${timeoutMs / 1000} s after ${size} bytes`);
      throw new Error(`connection closed after ${size} of ${total ?? '?'} bytes (${reason(e)})`);
    }
    if (total !== undefined && size !== total) throw new Error(`connection closed after ${size} of ${total} bytes`);
    await out.sync();
    const digest = { size, md5: md5.digest('hex'), sha256: sha.digest('hex') };
    const problem = digestProblem(digest, spec);
    if (problem) throw new Error(`checksum mismatch (${problem})`);
    return digest;
  } catch (e) {
    if (timedOut && !/^timed out/.test((e as Error).message)) throw new Error(`timed out: no response within ${timeoutMs / 1000} s`);
    throw e;
  } finally {
    clearTimeout(timer);
    res?.destroy();
    await out.close();
  }
}

/** Download `spec.name` from the first base URL that yields a verified file. */
export async function downloadVerified(bases: string[], dir: string, spec: FileSpec, h: DownloadHooks = {}): Promise<Downloaded> {
  await fs.mkdir(dir, { recursive: true });
  const dest = path.join(dir, spec.name);
  const part = `${dest}.part`;
  const failures: string[] = [];
  for (const base of bases) {
    const url = base.endsWith('/') ? base + spec.name : `${base}/${spec.name}`;
    try {
      const digest = await attempt(url, part, spec, h);
      await fs.rename(part, dest);
      return { url, digest };
    } catch (e) {
      await fs.rm(part, { force: true });
      failures.push(`${url}: ${reason(e)}`);
      h.onFail?.(url, reason(e));
    }
  }
  throw new VdsError(`could not download ${spec.name} from any mirror:\n    ${failures.join('\n    ')}`, {
    file: dest,
    hint: `check the network, pass --mirror <base-url>, or copy the official file into ${dir} by hand (it is checked by checksum)`,
    exitCode: 3,
  });
}
