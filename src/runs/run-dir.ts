// A run directory: creating it, and writing its files (all atomically). Layout in layout.ts.
import { STATISTICS } from '../config/schema.ts';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import type { VdsConfig } from '../config/types.ts';
import type { EpochRecord } from '../train/loop.ts';
import { VdsError } from '../util/errors.ts';
import { appendFileChecked, NoSpaceError, rewriteInPlace, writeFileAtomic } from '../util/fsx.ts';
import { EPOCH_COLUMNS, RUN_FILES, type EnvRecord, type RunState, type RunStatus, type SchedulerRecord } from './layout.ts';

/** The part of a config that decides a run's numbers (not where files go, nor which backend runs it). */
export function configIdentity(config: VdsConfig): string {
  const { resultsDir: _r, backend: _b, experiment: _e, ...rest } = config;
  // data.classes (vds ≥ 0.3) left out while null, so runs of earlier configs keep their ids
  const { classes, ...dataRest } = rest.data;
  const data = classes == null ? { ...dataRest, dir: null } : { ...dataRest, classes, dir: null };
  return createHash('sha256').update(JSON.stringify({ ...rest, data })).digest('hex').slice(0, 10);
}

/** Readable and unique: what ran, with which seed, and a hash of the full config. */
export function defaultRunId(config: VdsConfig, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${stamp}-${config.model.method}-D${config.model.maxDepth}-s${config.seed}-${configIdentity(config)}`;
}

export function runDirFor(config: VdsConfig, runId: string): string {
  return path.join(config.resultsDir, config.experiment, runId);
}

export function readStatus(dir: string): RunStatus | null {
  const file = path.join(dir, RUN_FILES.status);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunStatus;
  } catch {
    return null;
  }
}

/** Refuses to start a fresh run on top of an existing one. */
export function assertFreshRunDir(dir: string): void {
  const status = readStatus(dir);
  if (!status) return;
  const hint =
    status.state === 'finished'
      ? 'choose another --run-id or seed, or delete the directory'
      : `continue it with \`vds train --resume ${dir}\``;
  throw new VdsError(`a run already exists here (${status.state}, ${status.epoch} epochs)`, { file: dir, hint });
}

export async function writeStatus(dir: string, state: RunState, epoch: number, message?: string): Promise<void> {
  const status: RunStatus = { state, epoch, ...(message ? { message } : {}), updatedAt: new Date().toISOString() };
  const file = path.join(dir, RUN_FILES.status);
  const text = JSON.stringify(status, null, 2) + '\n';
  try {
    await writeFileAtomic(file, text);
  } catch (e) {
    // a full disk: status.json (under a page) is rewritten in place, so the run is still marked failed or
    // interrupted, not left "running"
    if (!(e instanceof NoSpaceError) || !existsSync(file)) throw e;
    await rewriteInPlace(file, text);
  }
}

export async function writeJson(dir: string, file: string, value: unknown): Promise<void> {
  await writeFileAtomic(path.join(dir, file), JSON.stringify(value, null, 2) + '\n');
}

function gitCommit(): string | null {
  try {
    const root = path.dirname(path.dirname(path.dirname(new URL(import.meta.url).pathname)));
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return null;
  }
}

/** A launcher that starts `vds train` under a scheduler describes the job in $VDS_SCHEDULER (JSON). */
export const SCHEDULER_ENV = 'VDS_SCHEDULER';

function schedulerFromEnv(): SchedulerRecord | undefined {
  const text = process.env[SCHEDULER_ENV];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as SchedulerRecord;
  } catch {
    throw new VdsError(`expected the scheduler record as JSON, got ${JSON.stringify(text.slice(0, 80))}`, { key: SCHEDULER_ENV });
  }
}

export function envRecord(o: {
  vdsVersion: string;
  tfjsVersion: string;
  backend: string;
  gpu: boolean;
  backendNotes: string[];
  seed: number;
}): EnvRecord {
  return {
    ...o,
    gitCommit: gitCommit(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    cpus: os.cpus().length,
    startedAt: new Date().toISOString(),
    endedAt: null,
    resumedAt: [],
    argv: process.argv.slice(2),
    scheduler: schedulerFromEnv(),
  };
}

/**
 * metrics.csv gets one row per epoch, appended (O(1) per epoch): the first epoch writes the header with it,
 * atomically. A resumed run first keeps only the rows its checkpoint covers (keepMetricsRows).
 */
export async function appendMetricsRow(dir: string, r: EpochRecord, maxDepth: number): Promise<void> {
  const file = path.join(dir, RUN_FILES.metrics);
  const row = stringify([metricsRow(r)]);
  if (r.epoch === 1 || !existsSync(file)) {
    const qCols = Array.from({ length: maxDepth + 1 }, (_, d) => `q_${d}`);
    await writeFileAtomic(file, stringify([[...EPOCH_COLUMNS, ...qCols]]) + row);
  } else {
    await appendFileChecked(file, row);
  }
}

/**
 * Cuts metrics.csv to its header and first `epochs` complete rows: a row written after the checkpoint, or
 * one half-written when the process died, is dropped (its epoch runs again and writes it anew).
 */
export async function keepMetricsRows(dir: string, epochs: number): Promise<void> {
  const file = path.join(dir, RUN_FILES.metrics);
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1); // lines ended by a newline
  const kept = complete.slice(0, 1 + epochs);
  const out = kept.length ? kept.join('\n') + '\n' : '';
  if (out !== text) await writeFileAtomic(file, out);
}

function metricsRow(r: EpochRecord): (string | number)[] {
  return [
    r.epoch,
    r.lr,
    r.trainLoss,
    r.trainNll,
    r.trainAcc,
    r.val?.elbo ?? '',
    r.val?.elboTotal ?? '',
    r.val?.nll ?? '',
    r.val?.accuracy ?? '',
    r.val?.logLikelihood ?? '',
    r.kl,
    r.expectedDepth,
    r.pruneDepth,
    r.seconds,
    ...STATISTICS.flatMap((k) => {
      const v = r.valBy?.[k];
      return [v?.elbo ?? '', v?.accuracy ?? '', v?.logLikelihood ?? ''];
    }),
    r.calibrationSeconds ?? '',
    ...r.q,
  ];
}
