// What the board lists: every sweep and run under the results directory, each read on its own, so a file
// that is missing, half-written or malformed makes that run's `error`, not the page's. A run's summary is
// rebuilt only when one of its files changed (by mtime and size), so a look at hundreds of runs costs stats.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { findRunDirs, walkDirs } from '../report/load.ts';
import { lockHolder } from '../runs/lock.ts';
import { RUN_FILES, type EvalRecord, type RunStatus } from '../runs/layout.ts';
import type { SweepManifest } from '../sweep/manifest.ts';
import { flatSettings, runLabels } from './labels.ts';
import { parseMetrics, type MetricsTable } from '../runs/metrics-csv.ts';

export type BoardState = 'running' | 'finished' | 'failed' | 'interrupted' | 'queued' | 'unknown';

export interface RunSummary {
  id: string; // path relative to the results directory, with '/'
  sweep: string | null; // id of the sweep it belongs to
  state: BoardState;
  message: string | null; // a failure's reason, or why it counts as interrupted
  epoch: number | null;
  epochs: number | null;
  dataset: string | null;
  method: string | null;
  maxDepth: number | null;
  seed: number | null;
  backend: string | null;
  test: { accuracy: number; logLikelihood: number; dStar: number; expectedDepth: number | null } | null;
  error: string | null; // a file of this run that cannot be read
  label?: string; // the sidebar's name: the settings that set it apart from the runs listed with it (labels.ts)
}

/** Each summary's settings (config.yaml flattened), kept beside it rather than sent to the browser. */
const settingsOf = new WeakMap<RunSummary, Record<string, string>>();

/** Sets every run's label from the settings that differ within its list (a sweep, or the runs outside any). */
function labelRuns(runs: RunSummary[]): void {
  const lists = new Map<string | null, RunSummary[]>();
  for (const r of runs) lists.set(r.sweep, [...(lists.get(r.sweep) ?? []), r]);
  for (const list of lists.values()) {
    const labels = runLabels(list.map((r) => ({ id: r.id, settings: settingsOf.get(r) ?? null })));
    for (const r of list) r.label = labels.get(r.id);
  }
}

export interface SweepSummary {
  id: string;
  name: string;
  launcher: string;
  runs: string[]; // run ids, in the manifest's order
}

export interface Tree {
  root: string;
  sweeps: SweepSummary[];
  runs: RunSummary[];
}

const WATCHED = [RUN_FILES.status, RUN_FILES.config, RUN_FILES.env, RUN_FILES.eval, RUN_FILES.metrics, RUN_FILES.prune];
const idOf = (root: string, dir: string) => path.relative(root, dir).split(path.sep).join('/') || '.';

/** mtime and size of the files a summary reads: equal fingerprints, equal summaries. */
export function fingerprint(dir: string): string {
  return WATCHED.map((f) => {
    try {
      const s = statSync(path.join(dir, f));
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return '-';
    }
  }).join('|');
}

function readJson<T>(dir: string, file: string): T | null {
  const p = path.join(dir, file);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as T;
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
}

interface ConfigView {
  data?: { name?: string };
  model?: { method?: string; maxDepth?: number };
  seed?: number;
  backend?: string;
  train?: { epochs?: number };
}

/** `metrics`: the run's metrics.csv when the caller has parsed it already (null: there is none). */
export function summarise(root: string, dir: string, sweep: string | null, metrics?: MetricsTable | null): RunSummary {
  const s: RunSummary = { id: idOf(root, dir), sweep, state: 'unknown', message: null, epoch: null, epochs: null, dataset: null, method: null, maxDepth: null, seed: null, backend: null, test: null, error: null };
  const problems: string[] = [];
  const attempt = (f: () => void) => {
    try {
      f();
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  };
  attempt(() => {
    const file = path.join(dir, RUN_FILES.config);
    if (!existsSync(file)) return;
    let c: ConfigView;
    try {
      c = parseYaml(readFileSync(file, 'utf8')) as ConfigView;
    } catch {
      throw new Error(`${RUN_FILES.config} is not valid YAML`);
    }
    settingsOf.set(s, flatSettings(c));
    s.dataset = c?.data?.name ?? null;
    s.method = c?.model?.method ?? null;
    s.maxDepth = c?.model?.maxDepth ?? null;
    s.seed = c?.seed ?? null;
    s.epochs = c?.train?.epochs ?? null;
  });
  attempt(() => {
    const env = readJson<{ backend?: string }>(dir, RUN_FILES.env);
    s.backend = env?.backend ?? null;
  });
  attempt(() => {
    const st = readJson<RunStatus>(dir, RUN_FILES.status);
    if (!st) return;
    s.epoch = typeof st.epoch === 'number' ? st.epoch : null;
    s.message = st.message ?? null;
    if (st.state === 'running' && !lockHolder(dir)) {
      s.state = 'interrupted';
      s.message = 'stopped without a checkpoint of its last step (no live process holds it)';
    } else s.state = (['running', 'finished', 'failed', 'interrupted'] as const).find((k) => k === st.state) ?? 'unknown';
  });
  attempt(() => {
    const ev = readJson<EvalRecord>(dir, RUN_FILES.eval);
    if (!ev) return;
    const m = ev.marginal;
    if (typeof m?.accuracy !== 'number') throw new Error(`${RUN_FILES.eval} has no marginal accuracy`);
    s.test = { accuracy: m.accuracy, logLikelihood: m.logLikelihood, dStar: ev.pruneDepth, expectedDepth: ev.expectedDepth ?? null };
  });
  attempt(() => {
    const t = metrics === undefined ? readMetrics(dir) : metrics;
    if (t?.error) throw new Error(t.error);
  });
  s.error = problems.length ? problems.join('; ') : null;
  return s;
}

/** A run's metrics.csv, parsed; null when it has none yet. */
export function readMetrics(dir: string): MetricsTable | null {
  const file = path.join(dir, RUN_FILES.metrics);
  return existsSync(file) ? parseMetrics(readFileSync(file, 'utf8')) : null;
}

/** Sweep directories (holding sweep.json) at most `maxDepth` levels under root. */
function findSweepDirs(root: string, maxDepth = 3): string[] {
  const out: string[] = [];
  walkDirs(root, maxDepth, ['checkpoints', 'report', 'logs', 'configs', 'slurm'], (dir, entries) => {
    if (entries.includes('sweep.json')) out.push(dir);
    return !entries.includes(RUN_FILES.status) && !entries.includes(RUN_FILES.config); // no sweep inside a run
  });
  return out;
}

/** Summaries are cached by fingerprint between calls (one cache per board). */
export class TreeReader {
  private cache = new Map<string, { print: string; summary: RunSummary }>();
  constructor(readonly root: string) {}

  read(): Tree {
    const sweeps: SweepSummary[] = [];
    const sweepOf = new Map<string, string>();
    const queued: RunSummary[] = [];
    for (const dir of findSweepDirs(this.root)) {
      const id = idOf(this.root, dir);
      let manifest: SweepManifest | null = null;
      try {
        manifest = JSON.parse(readFileSync(path.join(dir, 'sweep.json'), 'utf8')) as SweepManifest;
      } catch {
        sweeps.push({ id, name: path.basename(dir), launcher: 'unknown (sweep.json unreadable)', runs: [] });
        continue;
      }
      const runs = Array.isArray(manifest.runs) ? manifest.runs : [];
      sweeps.push({ id, name: manifest.name ?? path.basename(dir), launcher: manifest.launcher ?? 'local', runs: runs.map((r) => idOf(this.root, path.resolve(dir, r.dir ?? r.id))) });
      for (const r of runs) {
        const runDir = path.resolve(dir, r.dir ?? r.id);
        sweepOf.set(runDir, id);
        // planned but not started: no run directory yet
        if (!existsSync(path.join(runDir, RUN_FILES.status))) {
          const q: RunSummary = { id: idOf(this.root, runDir), sweep: id, state: r.state === 'failed' ? 'failed' : 'queued', message: null, epoch: null, epochs: r.epochs ?? null, dataset: r.dataset, method: r.method, maxDepth: r.maxDepth, seed: r.seed, backend: null, test: null, error: null };
          settingsOf.set(q, flatSettings({ model: { method: r.method, maxDepth: r.maxDepth }, seed: r.seed })); // all sweep.json knows
          queued.push(q);
        }
      }
    }
    const runs: RunSummary[] = [];
    const seen = new Set<string>();
    for (const dir of findRunDirs(this.root)) {
      const print = fingerprint(dir);
      const hit = this.cache.get(dir);
      // a running run is looked at again even unchanged: its process may have died (the lock tells)
      const summary = hit && hit.print === print && hit.summary.state !== 'running' ? hit.summary : summarise(this.root, dir, sweepOf.get(dir) ?? null);
      this.cache.set(dir, { print, summary });
      runs.push(summary);
      seen.add(summary.id);
    }
    for (const q of queued) if (!seen.has(q.id)) runs.push(q);
    labelRuns(runs);
    return { root: this.root, sweeps, runs };
  }

  /** The tree with only the runs named in `ids` read again (their files changed): no walk of the tree. */
  refresh(tree: Tree, ids: string[]): Tree {
    const again = new Set(ids);
    const runs = tree.runs.map((r) => {
      if (!again.has(r.id)) return r;
      const dir = path.join(this.root, ...r.id.split('/'));
      if (!existsSync(path.join(dir, RUN_FILES.status))) return r; // still only planned
      const summary = summarise(this.root, dir, r.sweep);
      this.cache.set(dir, { print: fingerprint(dir), summary });
      return summary;
    });
    labelRuns(runs);
    return { ...tree, runs };
  }
}
