// The prepared cache: each split decoded once to raw NHWC uint8 images and uint8 labels, with a manifest
// keyed by the sha256 of the source files. A later load whose sources still have those checksums reads
// two flat files (tens of ms for MNIST) instead of inflating and parsing again.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.ts';

export interface PreparedSplit {
  n: number;
  shape: [number, number, number];
  x: Uint8Array;
  y: Uint8Array;
}

interface ManifestEntry {
  sources: Record<string, string>; // file name → sha256
  n: number;
  shape: [number, number, number];
}

interface Manifest {
  format: 1;
  splits: Record<string, ManifestEntry>;
}

const manifestPath = (dir: string): string => path.join(dir, 'prepared', 'manifest.json');
const xPath = (dir: string, split: string): string => path.join(dir, 'prepared', `${split}-images.u8`);
const yPath = (dir: string, split: string): string => path.join(dir, 'prepared', `${split}-labels.u8`);

async function readManifest(dir: string): Promise<Manifest> {
  try {
    const m = JSON.parse(await fs.readFile(manifestPath(dir), 'utf8')) as Manifest;
    if (m.format === 1 && m.splits) return m;
  } catch {
    // absent or damaged: prepare again
  }
  return { format: 1, splits: {} };
}

const sameSources = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

/** The prepared split, or null when absent, stale (other source checksums) or damaged (wrong sizes). */
export async function loadPrepared(dir: string, split: string, sources: Record<string, string>): Promise<PreparedSplit | null> {
  const e = (await readManifest(dir)).splits[split];
  if (!e || !sameSources(e.sources, sources)) return null;
  try {
    const [x, y] = await Promise.all([fs.readFile(xPath(dir, split)), fs.readFile(yPath(dir, split))]);
    const per = e.shape[0] * e.shape[1] * e.shape[2];
    if (x.length !== e.n * per || y.length !== e.n) return null;
    return { n: e.n, shape: e.shape, x: new Uint8Array(x.buffer, x.byteOffset, x.length), y: new Uint8Array(y.buffer, y.byteOffset, y.length) };
  } catch {
    return null;
  }
}

/** Drop the split's entry, write its arrays, then the entry again: a crash in between leaves no entry that
 * vouches for arrays it did not describe. */
export async function savePrepared(dir: string, split: string, sources: Record<string, string>, s: PreparedSplit): Promise<void> {
  const before = await readManifest(dir);
  if (before.splits[split]) {
    delete before.splits[split];
    await writeFileAtomic(manifestPath(dir), JSON.stringify(before, null, 1) + '\n');
  }
  await writeFileAtomic(xPath(dir, split), s.x);
  await writeFileAtomic(yPath(dir, split), s.y);
  const m = await readManifest(dir);
  m.splits[split] = { sources, n: s.n, shape: s.shape };
  await writeFileAtomic(manifestPath(dir), JSON.stringify(m, null, 1) + '\n');
}

/** Which splits are prepared (for `vds data list`). */
export async function preparedSplits(dir: string): Promise<Record<string, { n: number; sources: Record<string, string> }>> {
  const m = await readManifest(dir);
  return Object.fromEntries(Object.entries(m.splits).map(([k, v]) => [k, { n: v.n, sources: v.sources }]));
}
