// The differentiable primitives the model is built from. Layouts are TF.js's: images NHWC, conv weights
// [kh, kw, in, out], linear weights [in, out]. The model calls only these, so their gradients can be made
// fast for the wasm backend in one place without touching the model (the parity test guards the numbers).
import { tf } from './tf.ts';

export const BN_EPS = 1e-5; // PyTorch's default (tfjs-layers uses 1e-3)

/** Convolution with bias, stride 1. `pad` 'valid' (no padding) or 'same' (3×3 with padding 1). */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, pad: 'valid' | 'same'): tf.Tensor4D {
  return tf.add(tf.conv2d(x, w, 1, pad), b);
}

/** Fully connected layer: [B, in] · [in, out] + [out]. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b);
}

export interface BatchStats {
  mean: tf.Tensor1D; // [C] batch mean
  variance: tf.Tensor1D; // [C] biased batch variance (what train mode normalises with)
  count: number; // elements per channel, to turn the biased variance into the unbiased one
}

/**
 * Train-mode batch norm over every axis but the last (channels): normalises with the batch mean and the
 * biased batch variance, as PyTorch does. Returns the statistics so the caller can update running ones.
 */
export function batchNormTrain(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
): { y: tf.Tensor; stats: BatchStats } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
  const count = x.size / x.shape[x.shape.length - 1];
  return { y, stats: { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count } };
}

/** Eval-mode batch norm with running statistics. */
export function batchNormEval(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  runningMean: tf.Tensor1D,
  runningVar: tf.Tensor1D,
): tf.Tensor {
  return tf.batchNorm(x, runningMean, runningVar, beta, gamma, BN_EPS);
}

/** Global mean over H and W: [B, H, W, C] → [B, C]. */
export function globalMeanPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D;
}

/** 2×2 average pooling, stride 2. */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}

export const relu = <T extends tf.Tensor>(x: T): T => tf.relu(x);

export const BN_MOMENTUM = 0.1; // PyTorch: running = 0.9·running + 0.1·batch (tfjs-layers uses 0.99)
