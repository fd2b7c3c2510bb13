// `vds data fetch` without the terminal: make a dataset's files present and verified in the data dir.
// Files already there (downloaded earlier or copied in by hand) are accepted when their checksums match;
// missing or failing files are downloaded from the mirrors in order, unless offline, where nothing touches
// the network and the error lists what is missing and where to get it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { VdsError } from '../util/errors.ts';
import type { FileSpec, OfficialSpec } from './catalog.ts';
import { digestOf, digestProblem, recordDigest } from './checksum.ts';
import { downloadVerified, type DownloadHooks } from './download.ts';

export interface FetchOptions {
  dataDir: string;
  offline?: boolean;
  mirrors?: string[]; // base URLs tried before the catalog's own
  includeOptional?: boolean; // SVHN extra
  log?: (m: string) => void;
  hooks?: (file: FileSpec) => DownloadHooks; // progress display per file
  timeoutMs?: number;
}

export type FileOutcome = 'present' | 'downloaded';

export interface FetchResult {
  dataset: string;
  dir: string;
  files: { name: string; outcome: FileOutcome; url?: string }[];
}

export const fileUrls = (bases: string[], name: string): string[] => bases.map((b) => (b.endsWith('/') ? b + name : `${b}/${name}`));

export async function fetchDataset(spec: OfficialSpec, o: FetchOptions): Promise<FetchResult> {
  const dir = path.join(o.dataDir, spec.name);
  const log = o.log ?? (() => {});
  const bases = [...(o.mirrors ?? []), ...spec.mirrors];
  const result: FetchResult = { dataset: spec.name, dir, files: [] };
  const unavailable: string[] = [];
  for (const file of spec.files.filter((f) => !f.optional || o.includeOptional)) {
    const full = path.join(dir, file.name);
    if (existsSync(full)) {
      const problem = digestProblem(await digestOf(dir, file.name), file);
      if (!problem) {
        log(`${spec.name}: ${file.name} present and verified`);
        result.files.push({ name: file.name, outcome: 'present' });
        continue;
      }
      if (o.offline) {
        unavailable.push(`${file.name}: present but fails verification (${problem}); get a good copy from ${fileUrls(bases, file.name)[0]}`);
        continue;
      }
      log(`${spec.name}: ${file.name} fails verification (${problem}); downloading it again`);
    } else if (o.offline) {
      unavailable.push(`${file.name}: missing; get it from ${fileUrls(bases, file.name).join(' or ')}`);
      continue;
    }
    const hooks = { timeoutMs: o.timeoutMs, ...(o.hooks?.(file) ?? {}) };
    const got = await downloadVerified(bases, dir, file, {
      ...hooks,
      onFail: (url, why) => {
        log(`${spec.name}: ${url} failed (${why}); trying the next mirror`);
        hooks.onFail?.(url, why);
      },
    });
    await recordDigest(dir, file.name, got.digest);
    log(`${spec.name}: ${file.name} downloaded from ${got.url} and verified`);
    result.files.push({ name: file.name, outcome: 'downloaded', url: got.url });
  }
  if (unavailable.length) {
    throw new VdsError(`offline, and ${unavailable.length} ${spec.name} file(s) are not available in ${dir}:\n    ${unavailable.join('\n    ')}`, {
      file: dir,
      hint: `copy the files into ${dir} (they are accepted when their checksums match), or run \`vds data fetch ${spec.name}\` without --offline`,
    });
  }
  return result;
}
