// The CSV tables: each a list of records with fixed columns; mean/std pairs become `<name>_mean, <name>_std`
// (std empty for a single seed), NaN and missing become empty cells. `test_*` columns use the statistics
// named in `statistics` (what selected the epoch); `precise_*` and `running_*` give both sets side by side.
import type { Section } from './compat.ts';
import { STATISTICS } from '../config/schema.ts';
import { stringify } from 'csv-stringify/sync';
import type { ReliabilityBin } from '../runs/layout.ts';
import { predictorsUnder, selectedStatistics, settingOf, type Group, type HeadlineRow, type MetricStats, type PosteriorSummary, type PruningRow, type Setting, type SpeedupRange } from './aggregate.ts';
import type { Run, SkippedRun } from './load.ts';
import type { Stat } from './stats.ts';

export type Cell = string | number | null;
export type Table = { columns: string[]; rows: Record<string, Cell>[] };

const num = (v: number | null | undefined): Cell => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

function ms(name: string, s: Stat): Record<string, Cell> {
  return { [`${name}_mean`]: num(s.mean), [`${name}_std`]: num(s.std) };
}

/** A speed-up's range over paired passes and how many runs' ranges span 1× (prune's verdict), as columns. */
function range(name: string, r: SpeedupRange | null): Record<string, Cell> {
  return { [`${name}_min`]: num(r?.min), [`${name}_max`]: num(r?.max), [`${name}_spans_1x`]: r ? `${r.spansOne} of ${r.runs}` : null };
}

function metricCols(prefix: string, m: MetricStats | null): Record<string, Cell> {
  const none: Stat = { mean: NaN, std: null, n: 0 };
  return {
    ...ms(`${prefix}accuracy`, m?.accuracy ?? none),
    ...ms(`${prefix}log_likelihood`, m?.logLikelihood ?? none),
    ...ms(`${prefix}ece10`, m?.ece10 ?? none),
    ...ms(`${prefix}ece15`, m?.ece15 ?? none),
    ...ms(`${prefix}brier`, m?.brier ?? none),
  };
}

/** precise_* and running_* columns side by side (empty where a set was not computed). */
function bothCols(prefix: string, by: Record<'precise' | 'running', MetricStats | null>): Record<string, Cell> {
  const none: Stat = { mean: NaN, std: null, n: 0 };
  const out: Record<string, Cell> = {};
  for (const k of STATISTICS) {
    const m = by[k];
    Object.assign(out, ms(`${k}_${prefix}accuracy`, m?.accuracy ?? none), ms(`${k}_${prefix}log_likelihood`, m?.logLikelihood ?? none), ms(`${k}_${prefix}ece10`, m?.ece10 ?? none), ms(`${k}_${prefix}brier`, m?.brier ?? none));
  }
  return out;
}

/** A column per swept config key (named by its dotted key), after the dataset: numbers as numbers. */
export function settingCols(swept: readonly string[], setting: Setting | undefined): Record<string, Cell> {
  return Object.fromEntries(swept.map((k) => {
    const v = setting?.[k];
    return [k, v === undefined ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v)];
  }));
}

function table(rows: Record<string, Cell>[], columns?: string[]): Table {
  return { columns: columns ?? (rows[0] ? Object.keys(rows[0]) : []), rows };
}

export function runsTable(runs: Run[], swept: readonly string[] = []): Table {
  return table(
    runs.map((r) => ({
      run: r.id,
      dataset: r.config.data.name,
      ...settingCols(swept, settingOf(r.config, swept)),
      method: r.config.model.method,
      max_depth: r.config.model.maxDepth,
      seed: r.config.seed,
      statistics: selectedStatistics(r.eval), // what the test_* and pruned_* columns use, and what selected the epoch
      test_accuracy: num(r.eval.marginal.accuracy),
      test_log_likelihood: num(r.eval.marginal.logLikelihood),
      test_ece10: num(r.eval.marginal.ece10),
      test_ece15: num(r.eval.marginal.ece15),
      test_brier: num(r.eval.marginal.brier),
      expected_depth: num(r.eval.expectedDepth),
      prune_depth: num(r.eval.pruneDepth), // the depth vds prune cut at when it ran, else eval.json's d*
      prune_rule: r.pruneRule,
      pruned_accuracy: num(r.eval.pruned.accuracy),
      pruned_log_likelihood: num(r.eval.pruned.logLikelihood),
      ...Object.fromEntries(
        STATISTICS.flatMap((k) => {
          const p = predictorsUnder(r.eval, k);
          return [
            [`${k}_test_accuracy`, num(p?.marginal.accuracy)],
            [`${k}_test_log_likelihood`, num(p?.marginal.logLikelihood)],
            [`${k}_test_ece10`, num(p?.marginal.ece10)],
            [`${k}_test_brier`, num(p?.marginal.brier)],
            [`${k}_pruned_accuracy`, num(p?.pruned.accuracy)],
            [`${k}_pruned_log_likelihood`, num(p?.pruned.logLikelihood)],
          ];
        }),
      ),
      val_log_likelihood: num(r.eval.validation.logLikelihood),
      val_elbo: num(r.eval.validation.elbo),
      epochs: num(r.eval.epochsRun),
      train_seconds: num(r.eval.trainSeconds),
      params: num(r.eval.params),
      backend: r.env.backend ?? null,
      vds_version: r.env.vdsVersion,
    })),
  );
}

export function summaryTable(groups: Group[], swept: readonly string[] = []): Table {
  return table(
    groups.map((g) => ({
      dataset: g.dataset,
      ...settingCols(swept, g.setting),
      method: g.method,
      max_depth: g.maxDepth,
      seeds: g.runs.length,
      seed_list: g.seeds.join(' '),
      statistics: g.statistics,
      ...metricCols('test_', g.test),
      ...ms('expected_depth', g.expectedDepth),
      ...ms('prune_depth', g.pruneDepth),
      ...metricCols('pruned_', g.pruned),
      ...ms('epochs', g.epochs),
      ...ms('train_seconds', g.trainSeconds),
      ...ms('params', g.params),
      ...ms('val_log_likelihood', g.valLogLikelihood),
      ...bothCols('test_', { precise: g.by.precise.test, running: g.by.running.test }),
      ...bothCols('pruned_', { precise: g.by.precise.pruned, running: g.by.running.pruned }),
    })),
  );
}

export function headlineTable(rows: HeadlineRow[], swept: readonly string[] = []): Table {
  return table(
    rows.map((h) => ({
      dataset: h.dataset,
      ...settingCols(swept, h.setting),
      max_depth: h.maxDepth,
      predictor: h.predictor,
      ...ms('depth', h.depth),
      selected_by: h.selectedBy,
      seeds: h.seeds,
      statistics: h.statistics,
      ...metricCols('test_', h.metrics),
      ...bothCols('test_', h.by),
      ...ms('params', h.params),
      ...ms('eval_seconds', h.evalSeconds),
    })),
  );
}

export function pruningTable(rows: PruningRow[], swept: readonly string[] = []): Table {
  return table(
    rows.map((p) => ({
      dataset: p.dataset,
      ...settingCols(swept, p.setting),
      max_depth: p.maxDepth,
      runs: p.runs,
      rule: p.rule,
      ...ms('depth', p.depth),
      ...ms('run_d_star', p.runDStar),
      nothing_pruned: p.nothingPruned,
      ...ms('speedup_vs_full', p.speedupVsFull),
      ...range('speedup_vs_full', p.speedupRange.vsFull),
      ...ms('speedup_vs_fixed', p.speedupVsFixed),
      ...range('speedup_vs_fixed', p.speedupRange.vsFixed),
      ...ms('full_params', p.fullParams),
      ...ms('pruned_params', p.prunedParams),
      ...ms('full_accuracy', p.fullAccuracy),
      ...ms('pruned_accuracy', p.prunedAccuracy),
      ...ms('full_log_likelihood', p.fullLogLikelihood),
      ...ms('pruned_log_likelihood', p.prunedLogLikelihood),
    })),
  );
}

export function posteriorTable(ps: PosteriorSummary[], swept: readonly string[] = []): Table {
  return table(
    ps.flatMap((p) => p.q.map((q, d) => ({ dataset: p.dataset, ...settingCols(swept, p.setting), max_depth: p.maxDepth, depth: d, q_mean: num(q.mean), q_std: num(q.std), prior: num(p.prior[d]) }))),
    ['dataset', ...swept, 'max_depth', 'depth', 'q_mean', 'q_std', 'prior'],
  );
}

export interface ReliabilitySeries {
  dataset: string;
  setting?: Setting; // of the slice it was drawn from, when a sweep varied settings
  predictor: string;
  depth: number;
  bins: ReliabilityBin[]; // pooled over the runs (counts add up)
  examples: number[]; // test examples of each run pooled: the legend says seeds × test-set size, not their sum
}

export function reliabilityTable(series: ReliabilitySeries[], swept: readonly string[] = []): Table {
  return table(
    series.flatMap((s) => s.bins.map((b) => ({ dataset: s.dataset, ...settingCols(swept, s.setting), predictor: s.predictor, depth: s.depth, lower: b.lower, upper: b.upper, count: b.count, confidence: b.confidence, accuracy: b.accuracy }))),
    ['dataset', ...swept, 'predictor', 'depth', 'lower', 'upper', 'count', 'confidence', 'accuracy'],
  );
}

export function sectionsTable(sections: Section[]): Table {
  return table(
    sections.map((s) => ({ section: s.slug, dataset: s.dataset, experiments: s.experiments.join(' '), runs: String(s.runs.length), distinguished_by: s.describes.join('; ') })),
    ['section', 'dataset', 'experiments', 'runs', 'distinguished_by'],
  );
}

export function skippedTable(skipped: SkippedRun[]): Table {
  return table(skipped.map((s) => ({ run: s.id, state: s.state, reason: s.reason })), ['run', 'state', 'reason']);
}

export function toCsv(t: Table): string {
  return stringify(
    t.rows.map((r) => t.columns.map((c) => r[c] ?? '')),
    { header: true, columns: t.columns },
  );
}
