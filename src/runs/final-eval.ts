// The final evaluation on the test split, with the weights of the best validation epoch: the marginal over
// all depths (LDN-full), every single depth, and the network pruned at d* (its own, shorter forward pass).
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { predictiveMetrics } from '../metrics/index.ts';
import { predictSplit, type ValidationStats } from '../train/evaluate.ts';
import { learnerParams } from '../train/learner.ts';
import type { Learner } from '../train/step.ts';
import { expectedDepth } from '../vds/posterior.ts';
import { pruneDepth } from '../vds/prune.ts';
import { VDS_VERSION } from '../util/version.ts';
import type { EvalRecord } from './layout.ts';

export function finalEvaluation(
  l: Learner,
  ds: Dataset,
  config: VdsConfig,
  // validation: the best epoch's own validation pass (same weights, so no second pass is needed)
  run: { bestEpoch: number; epochsRun: number; trainSeconds: number; validation: ValidationStats | null },
): EvalRecord {
  const D = l.net.maxDepth;
  const learnt = l.posterior.learnt;
  const bs = config.train.evalBatchSize;
  const q = l.posterior.probs();
  const dStar = learnt ? pruneDepth(q, config.prune) : D;

  const full = predictSplit(l, ds, ds.test, bs, D, true);
  const marginal = predictiveMetrics(full.marginal, full.labels, full.classes);
  const perDepth = full.perDepth.map((lp, h) => ({
    depth: learnt ? h : D,
    ...predictiveMetrics(lp, full.labels, full.classes),
  }));
  const cut = learnt && dStar < D ? predictSplit(l, ds, ds.test, bs, dStar, false) : full;
  const pruned = cut === full ? marginal : predictiveMetrics(cut.marginal, cut.labels, cut.classes);
  const v = run.validation;

  return {
    vdsVersion: VDS_VERSION,
    split: 'test',
    method: config.model.method,
    maxDepth: D,
    q,
    expectedDepth: expectedDepth(q),
    pruneDepth: dStar,
    bestEpoch: run.bestEpoch,
    epochsRun: run.epochsRun,
    trainSeconds: run.trainSeconds,
    params: learnerParams(l, D),
    marginal,
    pruned: { ...pruned, depth: dStar, params: learnerParams(l, dStar) },
    perDepth,
    validation: v
      ? { elbo: v.elbo, nll: v.nll, accuracy: v.accuracy, logLikelihood: v.logLikelihood }
      : { elbo: NaN, nll: NaN, accuracy: NaN, logLikelihood: NaN },
    evalSeconds: { full: full.seconds, pruned: cut.seconds },
  };
}
