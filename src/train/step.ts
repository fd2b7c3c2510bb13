// One training step: all-depth forward in train mode, the ELBO, gradients of the weights and α, the SGD
// update, and the BatchNorm running-statistics update. One synchronous tidy; only plain numbers escape.
import { tf } from '../tf/tf.ts';
import { BN_MOMENTUM } from '../tf/batchnorm.ts';
import type { BatchStatsRecord, Network, PreciseStats } from '../model/index.ts';
import type { DepthPosterior } from '../vds/posterior.ts';
import { vdsLoss } from '../vds/objective.ts';
import { marginalLogProbs } from '../vds/predict.ts';
import type { Sgd } from './sgd.ts';
import type { Dataset } from '../data/types.ts';
import type { BatchStatistics } from './calibrate.ts';
import type { Batch } from '../data/batch.ts';
import type { EvalPass } from './evaluate.ts';
import { withCollective, type Collective } from './collective.ts';

export interface Learner {
  net: Network;
  posterior: DepthPosterior;
  opt: Sgd;
  logPrior: tf.Tensor1D; // over the heads the forward computes ([D+1] learnt, [1] fixed: [0])
  nTrain: number; // N in KL/N: the size of the training split
  parallel?: ParallelTrainer; // set while data-parallel training runs: trainStep hands the batch to it
  precise?: PreciseStats; // precise BatchNorm statistics of the current weights (SPEC §8), when calibrated
  recompute?: boolean; // activation checkpointing in the train step (memory.ts decides; same numbers)
}

export interface ParallelTrainer {
  readonly size: number; // replicas, this thread included
  step(l: Learner, x: tf.Tensor, y: tf.Tensor1D): StepStats;
  /** Per-batch train-mode BatchNorm statistics of the calibration batches `plan` (rows of ds.train), in order. */
  batchStatistics?(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<BatchStatistics[]>;
  /** Eval-mode logits of `count` batches (`batch(k)`; `forwardHere(k)` computes one on this thread), in order. */
  evalLogits?(l: Learner, count: number, batch: (k: number) => Batch, forwardHere: (k: number) => Float32Array, o: EvalPass): Promise<Float32Array[]>;
}

export interface StepStats {
  loss: number;
  expectedNll: number;
  kl: number;
  correct: number; // marginal-predictive hits in this batch
}

export const headsOf = (posterior: DepthPosterior): 'all' | 'last' => (posterior.learnt ? 'all' : 'last');

/** The trainable variables under their logical names: the network's weights, then α. */
export function trainableVariables(l: Learner): Map<string, tf.Variable> {
  const vars = new Map(l.net.store.params);
  if (l.posterior.alpha) vars.set('q.alpha', l.posterior.alpha);
  return vars;
}

/** Folds one train-mode BatchNorm application into its running statistics (unbiased variance). */
function updateRunningStats(net: Network, r: BatchStatsRecord): void {
  const mean = net.store.get(`${r.prefix}.runningMean`);
  const variance = net.store.get(`${r.prefix}.runningVar`);
  const unbiased = tf.mul(r.stats.variance, r.stats.count / (r.stats.count - 1));
  mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(r.stats.mean, BN_MOMENTUM)));
  variance.assign(tf.add(tf.mul(variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
}

/** Frees what lossAndGrads had to keep past variableGrads' own tidy. */
export function disposeKept(batchStats: BatchStatsRecord[], extras: tf.Tensor): void {
  for (const r of batchStats) tf.dispose([r.stats.mean, r.stats.variance]);
  extras.dispose();
}

/**
 * A replica's part of a data-parallel step: its rows are `fraction` of the batch, and one replica (the
 * first) carries the KL term, so the replicas' losses, and their gradients, sum to the whole batch's.
 */
export interface Share {
  fraction: number;
  withKl: boolean;
}

/**
 * Loss, its gradients (by logical name) and the BatchNorm statistics, without updating anything.
 * `batchStats` and `extras` are kept tensors: the caller frees them with disposeKept.
 */
export function lossAndGrads(
  l: Learner,
  x: tf.Tensor,
  y: tf.Tensor1D,
  share: Share = { fraction: 1, withKl: true },
): { value: tf.Scalar; grads: Map<string, tf.Tensor>; batchStats: BatchStatsRecord[]; extras: tf.Tensor } {
  const vars = trainableVariables(l);
  const names = [...vars.keys()];
  let batchStats: BatchStatsRecord[] = [];
  let extras: tf.Tensor | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const out = l.net.forward(x, { training: true, upTo: l.net.maxDepth, heads: headsOf(l.posterior), recompute: l.recompute });
    // variableGrads disposes what the closure makes; keep what the step needs afterwards
    batchStats = out.batchStats.map((r) => ({
      prefix: r.prefix,
      stats: { mean: tf.keep(r.stats.mean), variance: tf.keep(r.stats.variance), count: r.stats.count },
    }));
    const logQ = l.posterior.logQ();
    const obj = vdsLoss(out.logits, y, logQ, l.logPrior, l.nTrain);
    const predicted = tf.argMax(marginalLogProbs(out.logits, logQ), 1);
    const correct = tf.sum(tf.cast(tf.equal(predicted, y), 'float32'));
    if (share.fraction === 1 && share.withKl) {
      extras = tf.keep(tf.stack([obj.expectedNll, obj.kl, correct])); // [3]
      return obj.loss;
    }
    const nll = tf.mul(obj.expectedNll, share.fraction);
    const kl = share.withKl ? obj.kl : tf.zerosLike(obj.kl);
    extras = tf.keep(tf.stack([nll, kl, correct]));
    return tf.add(nll, tf.div(kl, l.nTrain)) as tf.Scalar;
  }, [...vars.values()]);
  const byName = new Map<string, tf.Tensor>();
  for (const name of names) {
    const g = grads[vars.get(name)!.name];
    if (g) byName.set(name, g);
  }
  return { value, grads: byName, batchStats, extras: extras! };
}

/** The SGD update with `grads` and the running-statistics update; frees the kept tensors (they outlive tidy). */
function applyUpdate(l: Learner, grads: Map<string, tf.Tensor>, batchStats: BatchStatsRecord[], extras: tf.Tensor): void {
  l.opt.step(trainableVariables(l), grads);
  for (const r of batchStats) updateRunningStats(l.net, r);
  disposeKept(batchStats, extras);
}

/** [loss, expected NLL, KL, hits] read out of a step's tidy. */
function readStats(numbers: tf.Tensor): StepStats {
  const [loss, expectedNll, kl, correct] = numbers.dataSync();
  numbers.dispose();
  return { loss, expectedNll, kl, correct };
}

export function trainStep(l: Learner, x: tf.Tensor, y: tf.Tensor1D): StepStats {
  if (l.parallel) return l.parallel.step(l, x, y);
  return readStats(
    tf.tidy(() => {
      const { value, grads, batchStats, extras } = lossAndGrads(l, x, y);
      const out = tf.concat([tf.reshape(value, [1]), extras]);
      applyUpdate(l, grads, batchStats, extras);
      return out;
    }),
  );
}

/**
 * This replica's part of a data-parallel step on its rows of the batch. The BatchNorm ops all-reduce their
 * statistics and backward sums through `group`; here the weight gradients, loss terms and hit counts are
 * all-reduced in one call, then every replica applies the same update to its identical copy.
 */
export function replicaStep(l: Learner, x: tf.Tensor, y: tf.Tensor1D, group: Collective, share: Share): StepStats {
  return readStats(
    withCollective(group, () =>
      tf.tidy(() => {
        const { value, grads, batchStats, extras } = lossAndGrads(l, x, y, share);
        const names = [...trainableVariables(l).keys()].filter((n) => grads.has(n));
        const parts = [...names.map((n) => grads.get(n)!), tf.reshape(value, [1]), extras];
        const flat = tf.concat(parts.map((t) => tf.reshape(t, [-1])));
        const summed = group.allReduce(flat.dataSync() as Float32Array);
        const total = new Map<string, tf.Tensor>();
        let at = 0;
        for (const n of names) {
          const g = grads.get(n)!;
          total.set(n, tf.tensor(summed.subarray(at, at + g.size), g.shape, 'float32'));
          at += g.size;
        }
        applyUpdate(l, total, batchStats, extras);
        return tf.tensor1d(summed.subarray(at)); // [loss, nll, kl, correct]
      }),
    ),
  );
}
