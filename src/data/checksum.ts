// File checksums, and a small record of files already verified so that a load does not re-hash
// 1.3 GB of SVHN every time: a record is trusted only while the file's size and mtime are unchanged.
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.ts';
import type { FileSpec } from './catalog.ts';

export interface FileDigest {
  size: number;
  md5: string;
  sha256: string;
}

/** md5 and sha256 in one pass over the file. */
export async function hashFile(file: string): Promise<FileDigest> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

/** What is wrong with a digest against the published facts, or null when it matches all of them. */
export function digestProblem(d: FileDigest, spec: FileSpec): string | null {
  if (spec.size !== undefined && d.size !== spec.size) return `size ${d.size} bytes, expected ${spec.size}`;
  if (spec.md5 && d.md5 !== spec.md5.toLowerCase()) return `md5 ${d.md5}, expected ${spec.md5}`;
  if (spec.sha256 && d.sha256 !== spec.sha256.toLowerCase()) return `sha256 ${d.sha256}, expected ${spec.sha256}`;
  return null;
}

const RECORD = '.verified.json';

interface RecordEntry extends FileDigest {
  mtimeMs: number;
}

async function readRecord(dir: string): Promise<Record<string, RecordEntry>> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, RECORD), 'utf8')) as Record<string, RecordEntry>;
  } catch {
    return {}; // absent or unreadable: everything gets hashed again, which is always safe
  }
}

/** The file's digest, from the record when size and mtime still match, else hashed (and recorded). */
export async function digestOf(dir: string, name: string): Promise<FileDigest> {
  const file = path.join(dir, name);
  const st = await fs.stat(file);
  const record = await readRecord(dir);
  const r = record[name];
  if (r && r.size === st.size && r.mtimeMs === st.mtimeMs) return { size: r.size, md5: r.md5, sha256: r.sha256 };
  const d = await hashFile(file);
  record[name] = { ...d, mtimeMs: st.mtimeMs };
  try {
    await writeFileAtomic(path.join(dir, RECORD), JSON.stringify(record, null, 1) + '\n');
  } catch {
    // a read-only data dir still loads; it just hashes again next time
  }
  return d;
}

/** Record a digest computed elsewhere (a download hashes while it writes), so nothing is hashed twice. */
export async function recordDigest(dir: string, name: string, d: FileDigest): Promise<void> {
  const st = await fs.stat(path.join(dir, name));
  const record = await readRecord(dir);
  record[name] = { ...d, mtimeMs: st.mtimeMs };
  await writeFileAtomic(path.join(dir, RECORD), JSON.stringify(record, null, 1) + '\n');
}
