// Loading an official dataset from <dataDir>/<name>/: every source file must be present and match its
// published checksums (else nothing is used), then each split comes from the prepared cache or is
// decoded from the sources once and cached.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { VdsError } from '../util/errors.ts';
import type { FileSpec, OfficialSpec } from './catalog.ts';
import { splitFiles } from './catalog.ts';
import { digestOf, digestProblem, type FileDigest } from './checksum.ts';
import { readIdxPair } from './idx.ts';
import { readSvhnMat } from './mat.ts';
import { loadPrepared, savePrepared, type PreparedSplit } from './prepared.ts';

export interface OfficialSplits {
  splits: Record<string, PreparedSplit>;
  files: { path: string; size: number; md5: string; sha256: string }[];
  prepared: Record<string, 'cache' | 'decoded'>;
}

export const fetchHint = (name: string, dir: string): string =>
  `run \`vds data fetch ${name}\` (or copy the official files into ${dir})`;

/** Present and matching the published checksums, or a VdsError saying which and how to fix it. */
export async function verifiedDigest(dir: string, file: FileSpec, dataset: string): Promise<FileDigest> {
  const full = path.join(dir, file.name);
  if (!existsSync(full)) throw new VdsError(`missing: the ${dataset} file ${file.name} is not in ${dir}`, { file: full, hint: fetchHint(dataset, dir) });
  const d = await digestOf(dir, file.name);
  const problem = digestProblem(d, file);
  if (problem) {
    throw new VdsError(`checksum mismatch (${problem}); the file is damaged or not the official one, so it is not used`, {
      file: full,
      hint: `delete it and ${fetchHint(dataset, dir)}`,
    });
  }
  return d;
}

export async function loadOfficial(
  spec: OfficialSpec,
  dataDir: string,
  wanted: string[], // split names, e.g. ['train', 'test'] or with 'extra'
  log: (m: string) => void = () => {},
): Promise<OfficialSplits> {
  const dir = path.join(dataDir, spec.name);
  const layout = splitFiles(spec);
  const byName = new Map(spec.files.map((f) => [f.name, f]));
  const out: OfficialSplits = { splits: {}, files: [], prepared: {} };
  // Verify everything first: a bad test file must stop the run before any training starts.
  const digests = new Map<string, FileDigest>();
  for (const s of wanted) {
    for (const name of [layout[s].images, layout[s].labels].filter((v): v is string => !!v)) {
      const d = await verifiedDigest(dir, byName.get(name) ?? { name }, spec.name);
      digests.set(name, d);
      out.files.push({ path: path.join(dir, name), ...d });
    }
  }
  const hint = fetchHint(spec.name, dir);
  for (const s of wanted) {
    const { images, labels } = layout[s];
    const sources: Record<string, string> = { [images]: digests.get(images)!.sha256 };
    if (labels) sources[labels] = digests.get(labels)!.sha256;
    let split = await loadPrepared(dir, s, sources);
    out.prepared[s] = split ? 'cache' : 'decoded';
    if (!split) {
      log(`preparing ${spec.name} ${s} from ${images} (once; later loads use ${path.join(dir, 'prepared')})`);
      split = labels
        ? await readIdxPair(path.join(dir, images), path.join(dir, labels), spec.classes, { hint })
        : await readSvhnMat(path.join(dir, images), { hint });
      checkShape(split, spec, path.join(dir, images), hint);
      await savePrepared(dir, s, sources, split);
    }
    out.splits[s] = split;
  }
  return out;
}

function checkShape(s: PreparedSplit, spec: OfficialSpec, file: string, hint: string): void {
  if (s.shape.join() !== spec.inputShape.join()) {
    throw new VdsError(`images are [${s.shape.join(', ')}], ${spec.name} needs [${spec.inputShape.join(', ')}]`, { file, hint });
  }
}
