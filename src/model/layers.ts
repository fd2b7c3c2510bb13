// BatchNorm as the model uses it: train mode normalises with batch statistics and records them for the
// running-statistics update; eval mode uses the running statistics.
import type { tf } from '../tf/tf.ts';
import { batchNormEval, batchNormTrain } from '../tf/batchnorm.ts';
import type { ParamStore } from './params.ts';
import type { BatchStatsRecord } from './network.ts';

export function batchNorm(
  store: ParamStore,
  prefix: string,
  x: tf.Tensor,
  training: boolean,
  record: BatchStatsRecord[],
): tf.Tensor {
  const gamma = store.get(`${prefix}.gamma`) as tf.Tensor1D;
  const beta = store.get(`${prefix}.beta`) as tf.Tensor1D;
  if (!training) {
    const mean = store.get(`${prefix}.runningMean`) as tf.Tensor1D;
    const variance = store.get(`${prefix}.runningVar`) as tf.Tensor1D;
    return batchNormEval(x, gamma, beta, mean, variance);
  }
  const { y, stats } = batchNormTrain(x, gamma, beta);
  record.push({ prefix, stats });
  return y;
}
