// Finding and reading run directories (layout in src/runs/layout.ts). Nothing here writes or trains. A run
// that cannot be used (failed, unfinished, files missing or unreadable) becomes a SkippedRun with the reason.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { VdsConfig } from '../config/types.ts';
import { RUN_FILES, type EnvRecord, type EvalRecord, type PruneRecord, type RobustnessRecord, type RunStatus } from '../runs/layout.ts';
import { lockHolder } from '../runs/lock.ts';
import { manifestPath, readManifest } from '../sweep/manifest.ts';
import { cutOf } from './cut.ts';
import { VdsError } from '../util/errors.ts';

export interface Run {
  dir: string;
  id: string; // path relative to the results dir
  config: VdsConfig;
  env: EnvRecord;
  status: RunStatus;
  eval: EvalRecord; // with the network prune.json cut as its pruned predictor (cut.ts)
  pruneRule: string; // the rule that gave eval.pruneDepth
  ownDStar: number; // d* by the run's own rule (eval.json as written)
  prune: PruneRecord | null;
  robustness: RobustnessRecord | null; // robustness.json from `vds eval`, when run
  swept: string[]; // config keys its sweep varied besides method, depth, dataset and seed (the sweep.json beside it)
  epochRows: number; // data rows in metrics.csv (0 when absent)
  notes: string[]; // non-fatal problems, e.g. an unreadable prune.json
}

export interface SkippedRun {
  dir: string;
  id: string;
  state: 'failed' | 'running' | 'interrupted' | 'incomplete' | 'corrupt' | 'duplicate';
  reason: string;
}

export interface LoadedResults {
  runs: Run[];
  skipped: SkippedRun[];
}

const MARKERS = [RUN_FILES.config, RUN_FILES.status, RUN_FILES.env, RUN_FILES.eval];

/**
 * Visits the directories under root (root included, in name order, at most `maxDepth` levels down), skipping
 * hidden ones and the folders named in `skip`; `visit` returns whether to look inside the one it is given.
 * A directory that vanishes or cannot be read mid-walk is passed over.
 */
export function walkDirs(root: string, maxDepth: number, skip: readonly string[], visit: (dir: string, entries: string[]) => boolean): void {
  const walk = (dir: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    if (!visit(dir, entries) || depth >= maxDepth) return;
    for (const e of entries.sort()) {
      if (e.startsWith('.') || skip.includes(e)) continue;
      const p = path.join(dir, e);
      try {
        if (statSync(p).isDirectory()) walk(p, depth + 1);
      } catch {
        /* vanished while walking */
      }
    }
  };
  walk(root, 0);
}

/** Directories under root (root included) that hold any run file; results/<experiment>/<run-id>/ or deeper. */
export function findRunDirs(root: string, maxDepth = 4): string[] {
  const found: string[] = [];
  walkDirs(root, maxDepth, ['checkpoints', 'report'], (dir, entries) => {
    if (!MARKERS.some((f) => entries.includes(f))) return true;
    found.push(dir);
    return false;
  });
  return found;
}

class Unusable extends Error {
  constructor(readonly state: SkippedRun['state'], reason: string) {
    super(reason);
  }
}

function readJson<T>(dir: string, file: string, required: boolean): T | null {
  const p = path.join(dir, file);
  if (!existsSync(p)) {
    if (required) throw new Unusable('incomplete', `${file} is missing`);
    return null;
  }
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  } catch (e) {
    throw new Unusable('corrupt', `${file} is not valid JSON (${(e as Error).message})`);
  }
}

const isNum = (v: unknown) => typeof v === 'number';

function checkEval(e: EvalRecord): void {
  const bad = (what: string) => {
    throw new Unusable('corrupt', `${RUN_FILES.eval}: ${what}`);
  };
  if (typeof e !== 'object' || e === null) bad('not an object');
  if (!Array.isArray(e.q) || !e.q.every(isNum)) bad('`q` is not a list of numbers');
  for (const k of ['expectedDepth', 'pruneDepth', 'epochsRun', 'trainSeconds', 'maxDepth'] as const) if (!isNum(e[k])) bad(`\`${k}\` is not a number`);
  for (const k of ['marginal', 'pruned'] as const) {
    const m = e[k];
    if (!m || !['accuracy', 'logLikelihood', 'ece10', 'brier'].every((f) => isNum((m as unknown as Record<string, unknown>)[f]))) bad(`\`${k}\` lacks predictive metrics`);
  }
  if (!e.validation || typeof e.validation !== 'object') bad('`validation` is missing');
}

function checkConfig(c: VdsConfig): void {
  const bad = (key: string) => {
    throw new Unusable('corrupt', `${RUN_FILES.config}: \`${key}\` is missing or malformed`);
  };
  if (!c || typeof c !== 'object') bad('(root)');
  if (typeof c.data?.name !== 'string') bad('data.name');
  if (c.model?.method !== 'learnt' && c.model?.method !== 'fixed') bad('model.method');
  if (!isNum(c.model?.maxDepth)) bad('model.maxDepth');
  if (!isNum(c.seed)) bad('seed');
  if (c.prior?.kind !== 'geometric' && c.prior?.kind !== 'uniform') bad('prior.kind');
}

// a sweep's manifest is read once per report (and once per change for the board), not once per run
const sweptCache = new Map<string, { mtimeMs: number; keys: string[] }>();

/** The keys the sweep in `sweepDir` varied (its sweep.json's `swept`); [] when it is no sweep or varied none. */
function sweptKeys(sweepDir: string): string[] {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(manifestPath(sweepDir)).mtimeMs;
  } catch {
    return [];
  }
  const hit = sweptCache.get(sweepDir);
  if (hit?.mtimeMs === mtimeMs) return hit.keys;
  const s = readManifest(sweepDir)?.swept;
  const keys = Array.isArray(s) ? s.filter((k): k is string => typeof k === 'string') : [];
  sweptCache.set(sweepDir, { mtimeMs, keys });
  return keys;
}

export function loadRun(dir: string, root: string): Run | SkippedRun {
  const id = path.relative(root, dir) || path.basename(dir);
  try {
    const status = readJson<RunStatus>(dir, RUN_FILES.status, true)!;
    if (status.state === 'failed') throw new Unusable('failed', `failed after ${status.epoch} epochs${status.message ? `: ${status.message}` : ''}`);
    if (status.state === 'running' && !lockHolder(dir)) {
      // status.json says running but no process holds the run: it was killed (kill -9, a lost machine)
      throw new Unusable('interrupted', `stopped after epoch ${status.epoch} without a checkpoint of its last step (no live process holds it); vds train --resume continues it`);
    }
    if (status.state === 'running' || status.state === 'interrupted') throw new Unusable(status.state, `${status.state} at epoch ${status.epoch} (no final evaluation yet)`);
    if (status.state !== 'finished') throw new Unusable('corrupt', `${RUN_FILES.status}: unknown state ${JSON.stringify(status.state)}`);
    const cfgFile = path.join(dir, RUN_FILES.config);
    if (!existsSync(cfgFile)) throw new Unusable('incomplete', `${RUN_FILES.config} is missing`);
    let config: VdsConfig;
    try {
      config = parseYaml(readFileSync(cfgFile, 'utf8')) as VdsConfig;
    } catch (e) {
      throw new Unusable('corrupt', `${RUN_FILES.config} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    checkConfig(config);
    const env = readJson<EnvRecord>(dir, RUN_FILES.env, true)!;
    if (typeof env?.vdsVersion !== 'string') throw new Unusable('corrupt', `${RUN_FILES.env}: \`vdsVersion\` is missing`);
    const ev = readJson<EvalRecord>(dir, RUN_FILES.eval, true)!;
    checkEval(ev);
    const notes: string[] = [];
    if (ev.statistics === undefined) notes.push('written before precise BatchNorm statistics (vds < 0.2): only the reference\'s running-statistics numbers are available');
    let prune: PruneRecord | null = null;
    try {
      prune = readJson<PruneRecord>(dir, RUN_FILES.prune, false);
      if (prune && !((isNum(prune.speedupVsFull) || (prune.speedupVsFull === null && prune.nothingPruned)) && prune.full && prune.pruned)) throw new Unusable('corrupt', `${RUN_FILES.prune} lacks speed-ups or metrics`);
    } catch (e) {
      if (!(e instanceof Unusable)) throw e;
      notes.push(`${e.message}; its pruning results are left out`);
      prune = null;
    }
    // a run trained by one vds and pruned by another: its training numbers stand, the pruning is left out
    // (mixing versions in one table is what the report refuses), with a note saying how to redo it
    if (prune && typeof prune.vdsVersion === 'string' && prune.vdsVersion !== env.vdsVersion) {
      notes.push(`${RUN_FILES.prune} was written by vds ${prune.vdsVersion}, the run by vds ${env.vdsVersion}: its pruning results are left out (run vds prune again with one version)`);
      prune = null;
    }
    let robustness: RobustnessRecord | null = null;
    try {
      robustness = readJson<RobustnessRecord>(dir, RUN_FILES.robustness, false);
      if (robustness && !(Array.isArray(robustness.ood) && Array.isArray(robustness.rotations) && robustness.byStatistics)) throw new Unusable('corrupt', `${RUN_FILES.robustness} lacks its results`);
    } catch (e) {
      if (!(e instanceof Unusable)) throw e;
      notes.push(`${e.message}; its robustness results are left out`);
      robustness = null;
    }
    let epochRows = 0;
    const csv = path.join(dir, RUN_FILES.metrics);
    if (existsSync(csv)) epochRows = Math.max(0, readFileSync(csv, 'utf8').split('\n').filter((l) => l.trim()).length - 1);
    else notes.push(`${RUN_FILES.metrics} is missing`);
    const cut = cutOf(ev, prune, config.prune);
    return { dir, id, config, env, status, eval: cut.eval, pruneRule: cut.rule, ownDStar: cut.ownDStar, prune, robustness, swept: sweptKeys(path.dirname(dir)), epochRows, notes };
  } catch (e) {
    if (e instanceof Unusable) return { dir, id, state: e.state, reason: e.message };
    throw e;
  }
}

export function loadResults(root: string): LoadedResults {
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new VdsError('results directory not found', { file: root, hint: 'pass the directory that `vds train` or `vds sweep` wrote (default: results)' });
  }
  const runs: Run[] = [];
  const skipped: SkippedRun[] = [];
  for (const dir of findRunDirs(root)) {
    const r = loadRun(dir, root);
    if ('eval' in r) runs.push(r);
    else skipped.push(r);
  }
  if (runs.length === 0 && skipped.length === 0) throw new VdsError('no run directories found', { file: root, hint: 'a run directory holds config.yaml, env.json, status.json, eval.json' });
  return { runs, skipped };
}
