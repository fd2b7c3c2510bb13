// One training step: all-depth forward in train mode, the ELBO, gradients of the weights and α, the SGD
// update, and the BatchNorm running-statistics update. One synchronous tidy; only plain numbers escape, read
// asynchronously after it (webgpu has no synchronous read).
import { tf, takeFloats } from '../tf/tf.ts';
import { BN_MOMENTUM } from '../tf/batchnorm.ts';
import type { BatchStatsRecord, Network } from '../model/index.ts';
import { vdsLoss } from '../vds/objective.ts';
import { marginalLogProbs } from '../vds/predict.ts';
import { headsOf, type Learner, type StepStats } from './types.ts';
import { withCollective, type Collective } from './collective.ts';

// the shared shapes, re-exported for the modules that import them from here
export { headsOf, type Learner, type ParallelTrainer, type StepStats } from './types.ts';

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
async function readStats(numbers: tf.Tensor): Promise<StepStats> {
  const [loss, expectedNll, kl, correct] = await takeFloats(numbers);
  return { loss, expectedNll, kl, correct };
}

export async function trainStep(l: Learner, x: tf.Tensor, y: tf.Tensor1D): Promise<StepStats> {
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
export function replicaStep(l: Learner, x: tf.Tensor, y: tf.Tensor1D, group: Collective, share: Share): Promise<StepStats> {
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
