// BatchNorm as PyTorch computes it (eps 1e-5, momentum 0.1, biased variance to normalise, unbiased for the
// running statistics). Train mode: batch statistics, a closed-form backward pass, and, inside a data-parallel
// step, statistics and backward sums over every replica's share. Eval mode: the running statistics as a
// per-channel affine map that the model folds into neighbouring kernels.
import { tf } from './tf.ts';
import { channelMoments, channelSum, fastGradientsActive } from './fast-grads.ts';
import { custom, type SaveFn } from './custom.ts';
import { activeCollective, type Collective } from '../train/collective.ts';

export const BN_EPS = 1e-5; // PyTorch's default (tfjs-layers uses 1e-3)
export const BN_MOMENTUM = 0.1; // PyTorch: running = 0.9·running + 0.1·batch (tfjs-layers uses 0.99)

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
  replay?: BatchStats,
  relu = false,
): { y: tf.Tensor; stats: BatchStats } {
  return tf.tidy(() => batchNormTrainImpl(x, gamma, beta, replay, relu) as never) as { y: tf.Tensor; stats: BatchStats };
}

/**
 * `replay`: the statistics this same input had in the forward pass, when a recomputing backward pass
 * (recompute.ts) runs the layer again. With the closed-form backward the statistics are constants, so
 * reusing them gives the same numbers without measuring (or all-reducing) them again; autodiff through
 * tf.moments (no fast gradients) needs them as functions of x, so that path ignores `replay` and measures
 * them again (the same kernels on the same input: the same values).
 */
function batchNormTrainImpl(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, replay: BatchStats | undefined, relu: boolean): { y: tf.Tensor; stats: BatchStats } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  if (!fastGradientsActive()) {
    if (activeCollective()) throw new Error('data-parallel training needs the wasm backend (its BatchNorm gradient)');
    const { mean, variance } = tf.moments(x, axes);
    const stats = { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count };
    const y = tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
    return { y: relu ? tf.relu(y) : y, stats };
  }
  const group = activeCollective();
  // data-parallel: the statistics (and below, the backward sums) are those of the whole batch, summed over
  // the replicas' shares, exactly as one replica computing the whole batch would normalise
  const { mean, variance, total } = replay
    ? { mean: replay.mean, variance: replay.variance, total: replay.count }
    : group
      ? groupMoments(x, group)
      : { ...batchMoments(x), total: count };
  const stats = { mean, variance, count: total };
  // Same forward; closed-form backward (the statistics are constants here, their dependence on x is in
  // the formula): x̂ = (x − μ)/√(σ² + ε), dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/√(σ² + ε) · (dy − (dβ + x̂·dγ)/N).
  // Tensors made in the forward pass are disposed before the backward pass unless saved.
  // With `relu` the op is relu(BatchNorm(x)): the forward is one kernel (the depthwise convolution's own
  // clamp, equal to a separate ReLU), and the backward first masks dy where the output is 0.
  const f = custom((xx: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: SaveFn) => {
    const value = normalise(xx, mean, variance, g as tf.Tensor1D, bt as tf.Tensor1D, relu);
    save(relu ? [xx, g, mean, variance, value] : [xx, g, mean, variance]);
    const gradFunc = (dyOut: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [x0, g0, m0, v0, y0] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor?];
        let dy = dyOut;
        if (y0) {
          dy = tf.mul(dyOut, tf.step(y0)); // ReLU's gradient, as ops.ts's relu computes it
          dyOut.dispose();
          y0.dispose();
        }
        // broadcasting sub/mul/add: on wasm each is ~4× cheaper than a FusedBatchNorm pass
        const r = tf.rsqrt(tf.add(v0, BN_EPS)) as tf.Tensor1D; // 1/√(σ² + ε)
        const onePass = fusedAffine(x0);
        const xhat = onePass ? channelAffine(x0 as tf.Tensor4D, { scale: r, shift: tf.neg(tf.mul(m0, r)) as tf.Tensor1D }, false) : tf.mul(tf.sub(x0, m0), r);
        const dBeta = channelSum(dy);
        const dGamma = channelSum(tf.mul(dy, xhat));
        // dx needs the whole batch's sums; γ and β get this share's (the step sums weight gradients)
        const [sBeta, sGamma] = group ? groupSums(group, dBeta, dGamma) : [dBeta, dGamma];
        const k = tf.mul(g0, r); // γ/√(σ² + ε)
        const a = tf.div(tf.mul(k, sGamma), -total);
        const c = tf.div(tf.mul(k, sBeta), -total);
        const dx = onePass
          ? tf.add(tf.mul(dy, k), channelAffine(xhat as tf.Tensor4D, { scale: a as tf.Tensor1D, shift: c as tf.Tensor1D }, false))
          : tf.add(tf.mul(dy, k), tf.add(tf.mul(xhat, a), c));
        // Nothing reads dy or the saved input after this node's backward pass: free them now rather
        // than when the whole backward pass ends (halves the peak memory of deep networks).
        dy.dispose();
        x0.dispose();
        return [dx, dGamma, dBeta];
      });
    return { value, gradFunc };
  });
  return { y: f(x, gamma, beta), stats };
}

/**
 * (x − μ)/√(σ² + ε)·γ + β, then ReLU if asked. NHWC: as x·scale + shift in one 1×1 depthwise convolution
 * with bias and its clamp (on wasm ~5× faster than the FusedBatchNorm kernel; equal to float rounding).
 */
function normalise(x: tf.Tensor, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, relu: boolean): tf.Tensor {
  if (!fusedAffine(x)) {
    return tf.tidy(() => {
      const y = tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
      return relu ? tf.relu(y) : y;
    });
  }
  return tf.tidy(() => channelAffine(x as tf.Tensor4D, bnAffine(gamma, beta, mean, variance), relu));
}

/** Whether per-channel affine maps of x go through channelAffine (NHWC on wasm, where it is fastest). */
const fusedAffine = (x: tf.Tensor): boolean => x.rank === 4 && tf.getBackend() === 'wasm';

/**
 * x·scale + shift per channel of an NHWC tensor (then ReLU), as one 1×1 depthwise conv with bias, run as the
 * bare kernel: nothing differentiates it (the custom ops here have their own gradients; eval mode has none),
 * and tf.fused.depthwiseConv2d would wrap a gradient of its own around it and, while a gradient is being
 * recorded (the train-mode forward), split a ReLU off into a depthwise conv, an Add and a Relu — three passes
 * instead of one.
 */
function channelAffine(x: tf.Tensor4D, a: Affine, relu: boolean): tf.Tensor4D {
  const filter = tf.reshape(a.scale, [1, 1, a.scale.size, 1]);
  const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: relu ? 'relu' : 'linear' };
  return tf.engine().runKernel('FusedDepthwiseConv2D', { x, filter, bias: a.shift }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/**
 * Moments over every axis but the last (channelMoments), as one custom op: autodiff records one
 * node that saves only x, instead of tf.moments' sub/square/mean nodes that keep a full-size x − μ alive
 * until the backward pass ends. Gradient: d/dx (a·μ + b·σ²) = a/N + 2b(x − μ)/N.
 */
function batchMoments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const C = x.shape[x.shape.length - 1];
  const N = x.size / C;
  const f = custom((xx: tf.Tensor, save: SaveFn) => {
    const m = channelMoments(xx);
    save([xx, m.mean]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor =>
      tf.tidy(() => {
        const [x0, m0] = saved;
        const [dMean, dVar] = tf.unstack(dy);
        return tf.add(tf.mul(tf.sub(x0, m0), tf.mul(dVar, 2 / N)), tf.div(dMean, N));
      });
    return { value: tf.stack([m.mean, m.variance]), gradFunc };
  });
  const [mean, variance] = tf.unstack(f(x)) as [tf.Tensor1D, tf.Tensor1D];
  return { mean, variance };
}

/**
 * Batch mean and biased variance over the whole data-parallel batch, from each replica's own count, mean
 * and sum of squared deviations (channelMoments of its rows), combined in rank order on every replica (Chan
 * et al.): μ = Σ nᵢμᵢ / N, N·σ² = Σ [Mᵢ + nᵢ(μᵢ − μ)²]. Stable like two-pass moments, one exchange.
 * Constants for autodiff: the BatchNorm backward pass has the statistics' dependence on x in closed form.
 */
function groupMoments(x: tf.Tensor, group: Collective): { mean: tf.Tensor1D; variance: tf.Tensor1D; total: number } {
  const C = x.shape[x.shape.length - 1];
  const n = x.size / C;
  const local = new Float32Array(1 + 2 * C);
  tf.tidy(() => {
    const m = channelMoments(x);
    local.set(m.mean.dataSync() as Float32Array, 1);
    local.set(m.variance.dataSync() as Float32Array, 1 + C);
  });
  local[0] = n;
  const parts = group.allGather(local);
  const total = parts.reduce((s, p) => s + p[0], 0);
  const mean = new Float64Array(C);
  for (const p of parts) for (let c = 0; c < C; c++) mean[c] += (p[0] * p[1 + c]) / total;
  const m2 = new Float64Array(C);
  for (const p of parts) {
    for (let c = 0; c < C; c++) {
      const d = p[1 + c] - mean[c];
      m2[c] += p[0] * p[1 + C + c] + p[0] * d * d;
    }
  }
  const variance = m2.map((v) => v / total);
  return { mean: tf.tensor1d(Float32Array.from(mean)), variance: tf.tensor1d(Float32Array.from(variance)), total };
}

/** [Σ dy, Σ dy·x̂] over the whole data-parallel batch, from this replica's shares. */
function groupSums(group: Collective, dBeta: tf.Tensor, dGamma: tf.Tensor): [tf.Tensor1D, tf.Tensor1D] {
  const C = dBeta.size;
  const local = new Float32Array(2 * C);
  local.set(dBeta.dataSync() as Float32Array, 0);
  local.set(dGamma.dataSync() as Float32Array, C);
  const sums = group.allReduce(local);
  return [tf.tensor1d(sums.subarray(0, C)), tf.tensor1d(sums.subarray(C))];
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

// ---- eval mode: no gradients, so BatchNorm becomes an affine map folded into neighbouring kernels ------
// The same function as the train-mode graph with running statistics, rounded differently (~1e-7 relative):
// the parity test checks eval outputs against the reference with these kernels.

/** Eval-mode BatchNorm as y = x·scale + shift: scale = γ/√(σ² + ε), shift = β − μ·scale. */
export interface Affine {
  scale: tf.Tensor1D;
  shift: tf.Tensor1D;
}

export function bnAffine(gamma: tf.Tensor1D, beta: tf.Tensor1D, runningMean: tf.Tensor1D, runningVar: tf.Tensor1D): Affine {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(runningVar, BN_EPS))) as tf.Tensor1D;
  return { scale, shift: tf.sub(beta, tf.mul(runningMean, scale)) as tf.Tensor1D };
}

/** relu(x·scale + shift) per channel, as one 1×1 depthwise convolution with bias and ReLU (one pass). */
export function affineRelu(x: tf.Tensor4D, a: Affine): tf.Tensor4D {
  return channelAffine(x, a, true);
}
