// BatchNorm as the model uses it: train mode normalises with batch statistics and records them (for the
// running-statistics update, or for calibrating precise ones); eval mode uses the running statistics, or
// precise ones when given (SPEC §8).
import type { tf } from '../tf/tf.ts';
import { batchNormEval, batchNormTrain } from '../tf/batchnorm.ts';
import type { ParamStore } from './params.ts';
import type { BatchStatsRecord } from './network.ts';
import type { NormStats, PreciseStats } from './norm-stats.ts';

/** The (mean, var) eval mode normalises `prefix` with: precise at `depth` when given, else the running ones. */
export function evalStats(store: ParamStore, prefix: string, precise: PreciseStats | undefined, depth?: number): NormStats {
  if (precise) return precise.get(prefix, depth);
  return { mean: store.get(`${prefix}.runningMean`) as tf.Tensor1D, variance: store.get(`${prefix}.runningVar`) as tf.Tensor1D };
}

export function batchNorm(
  store: ParamStore,
  prefix: string,
  x: tf.Tensor,
  training: boolean,
  record: BatchStatsRecord[],
  precise?: PreciseStats,
  depth?: number, // for a BatchNorm that runs once per depth
): tf.Tensor {
  const gamma = store.get(`${prefix}.gamma`) as tf.Tensor1D;
  const beta = store.get(`${prefix}.beta`) as tf.Tensor1D;
  if (!training) {
    const { mean, variance } = evalStats(store, prefix, precise, depth);
    return batchNormEval(x, gamma, beta, mean, variance);
  }
  const { y, stats } = batchNormTrain(x, gamma, beta);
  record.push(depth === undefined ? { prefix, stats } : { prefix, depth, stats });
  return y;
}
