// Which file a request may read: only files inside the results directory. A path with a `..` segment (also
// percent-encoded), a NUL, or one that leaves the tree through a symlink is refused; a missing one is absent.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';

export type Resolved = { ok: true; file: string } | { ok: false; status: 400 | 403 | 404; reason: string };

/** `rel` as it came in the URL (still percent-encoded), against the results directory `root`. */
export function resolveInside(root: string, rel: string): Resolved {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return { ok: false, status: 400, reason: 'malformed percent-encoding' };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400, reason: 'NUL in path' };
  const parts = decoded.split(/[\\/]+/).filter(Boolean);
  if (parts.some((p) => p === '..')) return { ok: false, status: 403, reason: 'outside the results directory' };
  const realRoot = realpathSync(root);
  const candidate = path.join(realRoot, ...parts);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return { ok: false, status: 404, reason: 'not found' };
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return { ok: false, status: 403, reason: 'outside the results directory (a link out of it)' };
  return { ok: true, file: real };
}

/** A run or sweep directory named by its id (as the tree gives it), or null when it is not one inside root. */
export function dirInside(root: string, id: string): string | null {
  const r = resolveInside(root, encodeURIComponent(id).replace(/%2F/g, '/'));
  if (!r.ok) return null;
  try {
    return statSync(r.file).isDirectory() ? r.file : null;
  } catch {
    return null;
  }
}

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
