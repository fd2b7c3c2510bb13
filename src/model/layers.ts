// BatchNorm as the model uses it: train mode normalises with batch statistics and records them (for the
// running-statistics update, or for calibrating precise ones); eval mode uses the running statistics, or
// precise ones when given (SPEC §8).
import { tf } from '../tf/tf.ts';
import { batchNormEval, batchNormTrain, type BatchStats } from '../tf/batchnorm.ts';
import type { ParamStore } from './params.ts';
import type { BatchStatsRecord } from './network.ts';
import type { NormStats, PreciseStats } from './norm-stats.ts';

/** The (mean, var) eval mode normalises `prefix` with: precise at `depth` when given, else the running ones. */
export function evalStats(store: ParamStore, prefix: string, precise: PreciseStats | undefined, depth?: number): NormStats {
  if (precise) return precise.get(prefix, depth);
  return { mean: store.get(`${prefix}.runningMean`) as tf.Tensor1D, variance: store.get(`${prefix}.runningVar`) as tf.Tensor1D };
}

/**
 * How a forward pass runs its BatchNorms. `record` collects train-mode statistics in order; `replay` (a
 * recomputing backward pass, src/tf/recompute.ts) holds the statistics of the forward pass being redone,
 * consumed in the same order.
 */
export interface NormContext {
  training: boolean;
  record: BatchStatsRecord[];
  precise?: PreciseStats; // eval mode: precise statistics instead of the running ones
  replay?: BatchStats[];
}

export function batchNorm(store: ParamStore, prefix: string, x: tf.Tensor, ctx: NormContext, depth?: number): tf.Tensor {
  return normalised(store, prefix, x, ctx, depth, false);
}

/** relu(batchNorm(x)) as one op: in train mode one kernel forward, the ReLU's mask folded into its backward. */
export function batchNormRelu(store: ParamStore, prefix: string, x: tf.Tensor, ctx: NormContext): tf.Tensor {
  return normalised(store, prefix, x, ctx, undefined, true);
}

function normalised(store: ParamStore, prefix: string, x: tf.Tensor, ctx: NormContext, depth: number | undefined, relu: boolean): tf.Tensor {
  const gamma = store.get(`${prefix}.gamma`) as tf.Tensor1D;
  const beta = store.get(`${prefix}.beta`) as tf.Tensor1D;
  if (!ctx.training) {
    const { mean, variance } = evalStats(store, prefix, ctx.precise, depth);
    const y = batchNormEval(x, gamma, beta, mean, variance);
    return relu ? tf.relu(y) : y;
  }
  const { y, stats } = batchNormTrain(x, gamma, beta, ctx.replay?.shift(), relu);
  ctx.record.push(depth === undefined ? { prefix, stats } : { prefix, depth, stats });
  return y;
}
