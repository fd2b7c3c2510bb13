// The pruned network a run reports. `vds prune --rule expected` may cut at another depth than eval.json's
// d* (the run's own rule); the depth it cut at then becomes the run's d* everywhere in the report (headline,
// runs.csv, group tables, figures), with prune.json's numbers for that network and the rule named, so the
// pruning table and the headline cannot disagree. eval.json's own d* stays in `ownDStar`.
import type { PruneConfig } from '../config/types.ts';
import type { EvalRecord, PredictiveMetrics, PruneRecord, StatisticsKind } from '../runs/layout.ts';

/** A prune rule as the tables name it. */
export const ruleName = (p: { rule: string; threshold: number | null }): string =>
  p.rule === 'threshold' ? `threshold ${p.threshold}` : 'round(E_q[d])';

export interface Cut {
  eval: EvalRecord; // eval.json, its pruned predictor replaced by the network prune.json cut (when it differs)
  rule: string; // the rule that gave eval.pruneDepth, e.g. 'round(E_q[d]), by vds prune' or 'threshold 0.95'
  ownDStar: number; // d* by the run's own rule (eval.json)
}

/** Metrics that were not computed: NaN, which the tables show as empty and '—'. */
const missing = (m: PredictiveMetrics): PredictiveMetrics => ({ ...m, accuracy: NaN, error: NaN, logLikelihood: NaN, ece10: NaN, ece15: NaN, brier: NaN });

export function cutOf(ev: EvalRecord, prune: PruneRecord | null, own: PruneConfig): Cut {
  const ownRule = ruleName(own);
  if (!prune || prune.depth === ev.pruneDepth) return { eval: ev, rule: ownRule, ownDStar: ev.pruneDepth };
  const depth = prune.depth;
  const params = prune.pruned.params;
  const selected: StatisticsKind = ev.statistics ?? 'running';
  const cutUnder = (k: StatisticsKind, like: PredictiveMetrics) => {
    const m = prune.byStatistics?.[k]?.pruned ?? ((prune.statistics ?? 'running') === k ? prune.pruned.metrics : null);
    return { ...(m ?? missing(like)), depth, params };
  };
  const byStatistics = ev.byStatistics
    ? Object.fromEntries(Object.entries(ev.byStatistics).map(([k, v]) => [k, v && { ...v, pruned: cutUnder(k as StatisticsKind, v.pruned) }]))
    : undefined;
  return {
    eval: { ...ev, pruneDepth: depth, pruned: cutUnder(selected, ev.pruned), ...(byStatistics ? { byStatistics } : {}), evalSeconds: { ...ev.evalSeconds, pruned: prune.pruned.evalSeconds } },
    rule: `${ruleName(prune)}, by vds prune`,
    ownDStar: ev.pruneDepth,
  };
}
