// From runs to the numbers the tables and figures show: groups per dataset × method × depth (× the settings a
// sweep varied, when it varied any), the headline
// comparison, pruning speed-ups, posteriors against their prior, pooled reliability bins.
import type { PriorConfig, VdsConfig } from '../config/types.ts';
import type { EvalRecord, PredictiveMetrics, ReliabilityBin, StatisticsKind } from '../runs/layout.ts';
import type { Run } from './load.ts';
import { stat, statVec, type Stat } from './stats.ts';
import type { Spread } from '../util/timing.ts';

export interface MetricStats {
  accuracy: Stat;
  error: Stat;
  logLikelihood: Stat;
  ece10: Stat;
  ece15: Stat;
  brier: Stat;
}

/** Test metrics under one set of BatchNorm statistics (null when a run of the group lacks them). */
export interface ByStatistics {
  test: MetricStats | null;
  pruned: MetricStats | null;
}

/** The statistics that drove a run's selection and headline numbers (runs before vds 0.2: running). */
export const selectedStatistics = (e: EvalRecord): StatisticsKind => e.statistics ?? 'running';

/** A run's predictors under `kind`: its byStatistics entry, or its headline numbers when they are that kind. */
export function predictorsUnder(e: EvalRecord, kind: StatisticsKind): Pick<EvalRecord, 'marginal' | 'pruned' | 'perDepth'> | null {
  return e.byStatistics?.[kind] ?? (selectedStatistics(e) === kind ? e : null);
}

/** The values of the swept config keys (dotted) in one run or group; {} when nothing else was swept. */
export type Setting = Record<string, unknown>;

export function settingOf(config: VdsConfig, swept: readonly string[]): Setting {
  const at = (key: string) => key.split('.').reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), config);
  return Object.fromEntries(swept.map((k) => [k, at(k)]));
}

export const sameSetting = (a: Setting, b: Setting): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Settings in order: numbers by value, anything else by its JSON text, key by key. */
export function compareSettings(a: Setting, b: Setting): number {
  for (const k of Object.keys(a)) {
    const [x, y] = [a[k], b[k]];
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : JSON.stringify(x).localeCompare(JSON.stringify(y));
    if (c) return c;
  }
  return 0;
}

export interface Group {
  dataset: string;
  method: 'learnt' | 'fixed';
  maxDepth: number;
  setting: Setting; // the swept keys' values shared by its runs
  runs: Run[];
  seeds: number[];
  statistics: StatisticsKind; // what drove selection and `test`/`pruned` (one per group: compat.ts)
  test: MetricStats; // the marginal (learnt) or the network itself (fixed), with `statistics`
  pruned: MetricStats; // learnt at d* (fixed: same as test)
  by: Record<StatisticsKind, ByStatistics>; // both sets side by side
  expectedDepth: Stat;
  pruneDepth: Stat;
  epochs: Stat;
  trainSeconds: Stat;
  params: Stat;
  prunedParams: Stat;
  evalSecondsFull: Stat;
  evalSecondsPruned: Stat;
  valLogLikelihood: Stat;
  valElbo: Stat;
}

function metricStats(ms: PredictiveMetrics[]): MetricStats {
  const s = (f: (m: PredictiveMetrics) => number) => stat(ms.map(f));
  return {
    accuracy: s((m) => m.accuracy),
    error: s((m) => m.error ?? 1 - m.accuracy),
    logLikelihood: s((m) => m.logLikelihood),
    ece10: s((m) => m.ece10),
    ece15: s((m) => m.ece15),
    brier: s((m) => m.brier),
  };
}

/** Runs grouped by dataset × method × depth × the values of `swept` (seeds are what a group averages over). */
export function groupRuns(runs: Run[], swept: readonly string[] = []): Group[] {
  const map = new Map<string, Run[]>();
  for (const r of runs) {
    const k = JSON.stringify([r.config.data.name, r.config.model.method, r.config.model.maxDepth, settingOf(r.config, swept)]);
    map.set(k, [...(map.get(k) ?? []), r]);
  }
  const groups = [...map.values()].map((rs): Group => {
    const c = rs[0].config;
    const e = (f: (r: Run) => number) => stat(rs.map(f));
    const under = (kind: StatisticsKind): ByStatistics => {
      const ps = rs.map((r) => predictorsUnder(r.eval, kind));
      if (ps.some((p) => p === null)) return { test: null, pruned: null }; // never a mix of runs with and without
      return { test: metricStats(ps.map((p) => p!.marginal)), pruned: metricStats(ps.map((p) => p!.pruned)) };
    };
    return {
      dataset: c.data.name,
      method: c.model.method,
      maxDepth: c.model.maxDepth,
      setting: settingOf(c, swept),
      runs: rs,
      seeds: rs.map((r) => r.config.seed).sort((a, b) => a - b),
      statistics: selectedStatistics(rs[0].eval),
      test: metricStats(rs.map((r) => r.eval.marginal)),
      pruned: metricStats(rs.map((r) => r.eval.pruned)),
      by: { precise: under('precise'), running: under('running') },
      expectedDepth: e((r) => r.eval.expectedDepth),
      pruneDepth: e((r) => r.eval.pruneDepth),
      epochs: e((r) => r.eval.epochsRun),
      trainSeconds: e((r) => r.eval.trainSeconds),
      params: e((r) => r.eval.params),
      prunedParams: e((r) => r.eval.pruned.params),
      evalSecondsFull: e((r) => r.eval.evalSeconds?.full ?? NaN),
      evalSecondsPruned: e((r) => r.eval.evalSeconds?.pruned ?? NaN),
      valLogLikelihood: e((r) => r.eval.validation.logLikelihood),
      valElbo: e((r) => r.eval.validation.elbo),
    };
  });
  return groups.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.method.localeCompare(b.method) || a.maxDepth - b.maxDepth || compareSettings(a.setting, b.setting));
}

export const datasets = (groups: Group[]) => [...new Set(groups.map((g) => g.dataset))];

/** Validation score used to pick the best fixed depth: mean validation LL, else mean validation ELBO. */
export function validationScore(g: Group): { value: number; by: 'validation LL' | 'validation ELBO' | 'none' } {
  if (Number.isFinite(g.valLogLikelihood.mean)) return { value: g.valLogLikelihood.mean, by: 'validation LL' };
  if (Number.isFinite(g.valElbo.mean)) return { value: g.valElbo.mean, by: 'validation ELBO' };
  return { value: NaN, by: 'none' };
}

/** The fixed-depth group of `dataset` (and `setting`, when given) with depth ≤ maxDepth and the best validation score (ties: shallower). */
export function bestFixed(groups: Group[], dataset: string, maxDepth: number, setting?: Setting): Group | null {
  let best: Group | null = null;
  for (const g of groups) {
    if (g.dataset !== dataset || g.method !== 'fixed' || g.maxDepth > maxDepth || (setting && !sameSetting(g.setting, setting))) continue;
    const v = validationScore(g).value;
    if (!Number.isFinite(v)) continue;
    if (!best || v > validationScore(best).value) best = g;
  }
  return best;
}

export interface HeadlineRow {
  dataset: string;
  maxDepth: number; // D of the learnt network
  setting: Setting;
  predictor: 'learnt (full marginal)' | 'learnt + pruned' | 'best fixed depth';
  depth: Stat; // E_q[d], d*, or the chosen fixed depth
  selectedBy: string;
  seeds: number;
  metrics: MetricStats | null; // null: no fixed-depth runs to choose from; with `statistics`
  statistics: StatisticsKind; // what selected the epoch (and the best fixed depth) and what `metrics` uses
  by: Record<StatisticsKind, MetricStats | null>; // the same predictor under both sets
  params: Stat;
  evalSeconds: Stat;
}


export function headline(groups: Group[]): HeadlineRow[] {
  const rows: HeadlineRow[] = [];
  const none: Stat = { mean: NaN, std: null, n: 0 };
  for (const g of groups.filter((x) => x.method === 'learnt')) {
    const base = { dataset: g.dataset, maxDepth: g.maxDepth, setting: g.setting, seeds: g.runs.length, statistics: g.statistics };
    const full = { precise: g.by.precise.test, running: g.by.running.test };
    const cut = { precise: g.by.precise.pruned, running: g.by.running.pruned };
    rows.push({ ...base, predictor: 'learnt (full marginal)', depth: g.expectedDepth, selectedBy: 'E_q[d]', metrics: g.test, by: full, params: g.params, evalSeconds: g.evalSecondsFull });
    rows.push({ ...base, predictor: 'learnt + pruned', depth: g.pruneDepth, selectedBy: `d* (${[...new Set(g.runs.map((r) => r.pruneRule))].join(' / ')})`, metrics: g.pruned, by: cut, params: g.prunedParams, evalSeconds: g.evalSecondsPruned });
    const f = bestFixed(groups, g.dataset, g.maxDepth, g.setting);
    rows.push(
      f
        ? { ...base, predictor: 'best fixed depth', depth: stat([f.maxDepth]), seeds: f.runs.length, selectedBy: `${validationScore(f).by} over depths ≤ ${g.maxDepth}`, metrics: f.test, by: { precise: f.by.precise.test, running: f.by.running.test }, params: f.params, evalSeconds: f.evalSecondsFull }
        : { ...base, predictor: 'best fixed depth', depth: none, seeds: 0, selectedBy: `no fixed-depth runs with depth ≤ ${g.maxDepth}`, metrics: null, by: { precise: null, running: null }, params: none, evalSeconds: none },
    );
  }
  return rows;
}

export interface PruningRow {
  dataset: string;
  maxDepth: number;
  setting: Setting;
  runs: number; // runs with prune.json
  rule: string; // the rule `vds prune` used
  depth: Stat; // the depth it pruned at, by that rule
  runDStar: Stat; // d* under the runs' own prune rule (eval.json): the same unless `vds prune --rule` chose another
  nothingPruned: number; // runs pruned at d* = D: nothing cut, so no speed-up (left out of the speed-up statistics)
  speedupVsFull: Stat;
  speedupVsFixed: Stat;
  speedupRange: { vsFull: SpeedupRange | null; vsFixed: SpeedupRange | null }; // over every paired pass of every run
  fullParams: Stat;
  prunedParams: Stat;
  fullAccuracy: Stat;
  prunedAccuracy: Stat;
  fullLogLikelihood: Stat;
  prunedLogLikelihood: Stat;
}

/**
 * The lowest and highest ratio of paired passes over the runs' prune.json (`speedups`), and how many runs'
 * own ranges span 1×: a speed-up there is one this machine does not measure reliably (what `vds prune`
 * says). Null when no run recorded a range (vds < 0.3 wrote only the median).
 */
export interface SpeedupRange {
  min: number;
  max: number;
  runs: number; // runs with a recorded range
  spansOne: number; // of which this many have min < 1 < max
}

function speedupRange(spreads: (Spread | null | undefined)[]): SpeedupRange | null {
  const s = spreads.filter((x): x is Spread => Boolean(x));
  if (!s.length) return null;
  return { min: Math.min(...s.map((x) => x.min)), max: Math.max(...s.map((x) => x.max)), runs: s.length, spansOne: s.filter((x) => x.min < 1 && x.max > 1).length };
}

/** "spans 1×: not a speed-up this machine measures reliably" (or how many runs' ranges do), '' when none. */
export function spanVerdict(r: SpeedupRange | null): string {
  if (!r || r.spansOne === 0) return '';
  const who = r.runs === 1 ? 'the range' : r.spansOne === r.runs ? `all ${r.runs} runs' ranges` : `${r.spansOne} of ${r.runs} runs' ranges`;
  return `${who} span${r.runs === 1 ? 's' : ''} 1×: no speed-up that this machine measures reliably`;
}

export function pruning(groups: Group[]): PruningRow[] {
  return groups
    .filter((g) => g.method === 'learnt')
    .map((g) => ({ g, ps: g.runs.flatMap((r) => (r.prune ? [r.prune] : [])) }))
    .filter(({ ps }) => ps.length > 0)
    .map(({ g, ps }) => {
      const cut = ps.filter((p) => p.depth < p.full.depth); // d* = D cuts nothing: no speed-up to speak of
      return {
      dataset: g.dataset,
      maxDepth: g.maxDepth,
      setting: g.setting,
      runs: ps.length,
      rule: [...new Set(ps.map((p) => (p.rule === 'threshold' ? `threshold ${p.threshold}` : p.rule)))].join(' / '),
      depth: stat(ps.map((p) => p.depth)),
      runDStar: stat(g.runs.filter((r) => r.prune).map((r) => r.ownDStar)),
      nothingPruned: ps.length - cut.length,
      speedupVsFull: stat(cut.map((p) => p.speedupVsFull ?? NaN)),
      speedupVsFixed: stat(cut.map((p) => p.speedupVsFixed ?? NaN)),
      speedupRange: { vsFull: speedupRange(cut.map((p) => p.speedups?.vsFull)), vsFixed: speedupRange(cut.map((p) => p.speedups?.vsFixed)) },
      fullParams: stat(ps.map((p) => p.full.params)),
      prunedParams: stat(ps.map((p) => p.pruned.params)),
      fullAccuracy: stat(ps.map((p) => p.full.metrics.accuracy)),
      prunedAccuracy: stat(ps.map((p) => p.pruned.metrics.accuracy)),
      fullLogLikelihood: stat(ps.map((p) => p.full.metrics.logLikelihood)),
      prunedLogLikelihood: stat(ps.map((p) => p.pruned.metrics.logLikelihood)),
      };
    });
}

/** p(d) for d = 0..D under the configured prior, normalised (in log space). */
export function priorProbs(prior: PriorConfig, D: number): number[] {
  const logw = Array.from({ length: D + 1 }, (_, d) => (prior.kind === 'uniform' ? 0 : d * Math.log(prior.decay)));
  const m = Math.max(...logw);
  const z = m + Math.log(logw.reduce((a, l) => a + Math.exp(l - m), 0));
  return logw.map((l) => Math.exp(l - z));
}

export interface PosteriorSummary {
  dataset: string;
  maxDepth: number;
  setting: Setting;
  q: Stat[]; // per depth, over seeds
  prior: number[];
  priorLabel: string;
}

export function posteriors(groups: Group[]): PosteriorSummary[] {
  return groups
    .filter((g) => g.method === 'learnt')
    .map((g) => {
      const p = g.runs[0].config.prior;
      return {
        dataset: g.dataset,
        maxDepth: g.maxDepth,
        setting: g.setting,
        q: statVec(g.runs.map((r) => r.eval.q)),
        prior: priorProbs(p, g.maxDepth),
        priorLabel: p.kind === 'uniform' ? 'uniform prior' : `prior p(d) ∝ ${p.decay}^d`,
      };
    });
}

/** Reliability bins pooled over seeds: counts add, confidence and accuracy are count-weighted means. */
export function poolBins(binsPerRun: ReliabilityBin[][]): ReliabilityBin[] {
  const first = binsPerRun[0] ?? [];
  return first.map((b, i) => {
    let count = 0;
    let conf = 0;
    let acc = 0;
    for (const bins of binsPerRun) {
      const x = bins[i];
      if (!x) continue;
      count += x.count;
      conf += x.confidence * x.count;
      acc += x.accuracy * x.count;
    }
    return { lower: b.lower, upper: b.upper, count, confidence: count ? conf / count : 0, accuracy: count ? acc / count : 0 };
  });
}

/** The learnt group with the largest D of each dataset (the one figures single out). */
export function deepestLearnt(groups: Group[], dataset: string): Group | null {
  const ls = groups.filter((g) => g.dataset === dataset && g.method === 'learnt');
  return ls.length ? ls.reduce((a, b) => (b.maxDepth > a.maxDepth ? b : a)) : null;
}
