// The sweep manifest (<resultsDir>/<name>/sweep.json): every planned run and its state, rewritten
// atomically on each change, so an interrupted sweep can be inspected and continued.
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.ts';
import type { PlannedRun } from './plan.ts';

export type SweepRunState = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted' | 'skipped';

export interface ManifestRun {
  id: string;
  dataset: string;
  method: string;
  maxDepth: number;
  seed: number;
  dir: string;
  state: SweepRunState;
  attempts: number;
  exitCode: number | null;
  seconds: number | null;
  log: string;
}

export interface SweepManifest {
  name: string;
  sweepFile: string;
  vdsVersion: string;
  updatedAt: string;
  jobs: number;
  wallSeconds: number | null;
  runs: ManifestRun[];
}

export function manifestPath(sweepDir: string): string {
  return path.join(sweepDir, 'sweep.json');
}

export function manifestRun(r: PlannedRun, sweepDir: string): ManifestRun {
  return {
    id: r.id,
    dataset: r.dataset,
    method: r.method,
    maxDepth: r.maxDepth,
    seed: r.seed,
    dir: r.dir,
    state: 'pending',
    attempts: 0,
    exitCode: null,
    seconds: null,
    log: path.join(sweepDir, 'logs', `${r.id}.log`),
  };
}

export async function writeManifest(sweepDir: string, m: SweepManifest): Promise<void> {
  m.updatedAt = new Date().toISOString();
  await writeFileAtomic(manifestPath(sweepDir), JSON.stringify(m, null, 2) + '\n');
}
