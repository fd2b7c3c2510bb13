// The sweep manifest (<resultsDir>/<name>/sweep.json): every planned run and its state, rewritten
// atomically on each change, so an interrupted sweep can be inspected and continued.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fsx.ts';
import type { PlannedRun } from './plan.ts';

/** Who runs a sweep's runs: child processes here, a Slurm cluster, or `vds worker`s on a Redis queue (sweep/launcher.ts). */
export const LAUNCHERS = ['local', 'slurm', 'queue'] as const;
export type LauncherName = (typeof LAUNCHERS)[number];

/** What the local launcher is doing now (absent when no `vds sweep` runs the sweep here). */
export interface LocalRecord {
  pid: number; // the `vds sweep` process: `vds sweep cancel` asks it to stop
  host: string;
}

/** One sbatch job array: task t trains the run `runs[t]` (written in slurm/<name>.tasks.json too). */
export interface SlurmArrayRecord {
  name: string; // array-<n>: slurm/<name>.sbatch, slurm/<name>.tasks.json, slurm/<name>/<t>.log
  jobId: string; // the array's job id from sbatch
  runs: string[];
  submittedAt: string;
}

/** Where `vds sweep --launcher queue` sent the runs: a BullMQ queue in a Redis (queue/launcher.ts). */
export interface QueueRecord {
  redis: string; // the URL without its password ($VDS_REDIS_URL supplies it to status and cancel)
  passwordOmitted: boolean;
  queue: string;
  sentAt: string;
  jobs: Record<string, string>; // run id → job id
}

// the manifest's per-run `state` is the local launcher's record; under Slurm the run directories and
// squeue (or the Redis queue) are the truth (`vds sweep status`), so it says only whether a run was submitted
export type SweepRunState = 'pending' | 'running' | 'finished' | 'failed' | 'interrupted' | 'skipped' | 'submitted';

export interface ManifestRun {
  id: string;
  dataset: string;
  method: string;
  maxDepth: number;
  seed: number;
  setting?: Record<string, unknown>; // the swept config keys' values (absent when the sweep varies none)
  dir: string;
  epochs?: number; // train.epochs: the most it will train (early stopping may end it sooner)
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
  launcher?: LauncherName; // absent in manifests from before there was a choice: local
  swept?: string[]; // config keys the sweep varies besides method, depth, dataset and seed (`vds report` plots against them)
  jobs: number | null; // runs at a time (local), or the array throttle %N (slurm; null: no limit)
  wallSeconds: number | null;
  local?: LocalRecord | null;
  slurm?: { arrays: SlurmArrayRecord[] };
  queue?: QueueRecord;
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
    ...(Object.keys(r.setting).length ? { setting: r.setting } : {}),
    dir: path.resolve(r.dir), // absolute: status, cancel and Slurm jobs may run from elsewhere
    epochs: r.config.train.epochs,
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

/** The manifest as written, or null when there is none or it is damaged (it is rebuilt from the plan). */
export function readManifest(sweepDir: string): SweepManifest | null {
  try {
    return JSON.parse(readFileSync(manifestPath(sweepDir), 'utf8')) as SweepManifest;
  } catch {
    return null;
  }
}
