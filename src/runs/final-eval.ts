// The final evaluation on the test split, with the weights of the best validation epoch: the marginal over
// all depths (LDN-full), every single depth, and the network pruned at d* (its own, shorter forward pass),
// each under both sets of BatchNorm statistics — the precise per-depth ones the best epoch was calibrated
// with (SPEC §8) and the reference's running ones. config.eval.statistics says which set the headline uses.
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { predictiveMetrics } from '../metrics/index.ts';
import type { PreciseStats } from '../model/index.ts';
import type { TrainTiming } from '../train/loop.ts';
import { predictSplit, type ValidationStats } from '../train/evaluate.ts';
import { learnerParams } from '../train/learner.ts';
import { calibrationBatchRows, calibrationPlan, statisticsSets } from '../train/calibrate.ts';
import type { Learner } from '../train/step.ts';
import { expectedDepth } from '../vds/posterior.ts';
import { pruneDepth } from '../vds/prune.ts';
import { VDS_VERSION } from '../util/version.ts';
import type { EvalPredictors, EvalRecord, StatisticsKind } from './layout.ts';
import { faultPoint } from '../util/fault.ts';

const NO_VALIDATION = { elbo: NaN, nll: NaN, accuracy: NaN, logLikelihood: NaN };

/** Test numbers of every predictor under one set of statistics (`stats` precise, or undefined: running). */
async function predictors(l: Learner, ds: Dataset, config: VdsConfig, dStar: number, stats: PreciseStats | undefined, v: ValidationStats | null) {
  const D = l.net.maxDepth;
  const learnt = l.posterior.learnt;
  const bs = config.train.evalBatchSize;
  const full = await predictSplit(l, ds, ds.test, bs, D, true, stats);
  const marginal = predictiveMetrics(full.marginal, full.labels, full.classes);
  const perDepth = full.perDepth.map((lp, h) => ({ depth: learnt ? h : D, ...predictiveMetrics(lp, full.labels, full.classes) }));
  const cut = learnt && dStar < D ? await predictSplit(l, ds, ds.test, bs, dStar, false, stats) : full;
  const pruned = cut === full ? marginal : predictiveMetrics(cut.marginal, cut.labels, cut.classes);
  const record: EvalPredictors = {
    marginal,
    pruned: { ...pruned, depth: dStar, params: learnerParams(l, dStar) },
    perDepth,
    validation: v ? { elbo: v.elbo, nll: v.nll, accuracy: v.accuracy, logLikelihood: v.logLikelihood } : NO_VALIDATION,
  };
  return { record, seconds: { full: full.seconds, pruned: cut.seconds } };
}

export async function finalEvaluation(
  l: Learner,
  ds: Dataset,
  config: VdsConfig,
  // validation: the best epoch's own validation passes (same weights, so no second pass is needed)
  run: { bestEpoch: number; epochsRun: number; trainSeconds: number; trainTiming: TrainTiming; validation: Partial<Record<StatisticsKind, ValidationStats | null>> },
): Promise<EvalRecord> {
  const D = l.net.maxDepth;
  const learnt = l.posterior.learnt;
  const q = await l.posterior.probs();
  const dStar = learnt ? pruneDepth(q, config.prune) : D;
  const selected = config.eval.statistics;
  const byStatistics: EvalRecord['byStatistics'] = {};
  let evalSeconds = { full: NaN, pruned: NaN };
  for (const { kind, stats } of statisticsSets(l)) {
    faultPoint('test-pass');
    const r = await predictors(l, ds, config, dStar, stats, run.validation[kind] ?? null);
    byStatistics[kind] = r.record;
    if (kind === selected) evalSeconds = r.seconds;
  }
  const main = byStatistics[selected]!;
  return {
    vdsVersion: VDS_VERSION,
    statistics: selected,
    split: 'test',
    method: config.model.method,
    maxDepth: D,
    q,
    expectedDepth: expectedDepth(q),
    pruneDepth: dStar,
    bestEpoch: run.bestEpoch,
    epochsRun: run.epochsRun,
    trainSeconds: run.trainSeconds,
    trainTiming: run.trainTiming,
    params: learnerParams(l, D),
    ...main,
    evalSeconds,
    evalReplicas: l.parallel?.evalLogits ? l.parallel.size : 1,
    calibration: l.precise ? { batches: calibrationPlan(config, ds).length, batchSize: calibrationBatchRows(config, ds.train.n) } : null,
    byStatistics,
  };
}
