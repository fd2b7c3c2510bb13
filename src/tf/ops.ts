// The differentiable primitives the model is built from. Layouts are TF.js's: images NHWC, conv weights
// [kh, kw, in, out], linear weights [in, out]. The model calls only these, so their gradients can be made
// fast for the wasm backend in one place without touching the model (the parity test guards the numbers).
import { tf } from './tf.ts';
import { channelMoments, channelSum, fastGradientsActive, registerFastConvGradient } from './fast-grads.ts';
import { activeCollective, type Collective } from '../train/collective.ts';

type SaveFn = (tensors: tf.Tensor[]) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CustomFn = (...args: any[]) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[] };
/** tf.customGrad with plain tensor parameters (every tensor that needs a gradient must be a parameter). */
const custom = (fn: CustomFn): ((...xs: tf.Tensor[]) => tf.Tensor) => tf.customGrad(fn as never) as never;

// The gradient of every conv2d (stride 1) becomes the fast one when fast gradients are active (wasm).
registerFastConvGradient();

export const BN_EPS = 1e-5; // PyTorch's default (tfjs-layers uses 1e-3)

/** Convolution with bias, stride 1. `pad` 'valid' (no padding) or 'same' (3×3 with padding 1). */
export function conv2d(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, pad: 'valid' | 'same'): tf.Tensor4D {
  // tidy: the pre-bias tensor is freed at once (each op frees its temporaries, the tape keeps what the
  // backward pass needs), which keeps training memory linear in depth at a modest slope
  return tf.tidy(() => addChannelBias(tf.conv2d(x, w, 1, pad), b));
}

/** y + b over the last axis; the gradient of b is a per-channel sum done as one matmul. */
function addChannelBias<T extends tf.Tensor>(y: T, b: tf.Tensor1D): T {
  if (!fastGradientsActive()) return tf.add(y, b);
  const f = custom((yy: tf.Tensor, bb: tf.Tensor) => ({
    value: tf.add(yy, bb),
    // dy itself (not a clone) goes on, so the conv gradient can free it once used
    gradFunc: (dy: tf.Tensor) => [dy, channelSum(dy)],
  }));
  return f(y, b) as T;
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
  return tf.tidy(() => batchNormTrainImpl(x, gamma, beta) as never) as { y: tf.Tensor; stats: BatchStats };
}

function batchNormTrainImpl(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D): { y: tf.Tensor; stats: BatchStats } {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  if (!fastGradientsActive()) {
    if (activeCollective()) throw new Error('data-parallel training needs the wasm backend (its BatchNorm gradient)');
    const { mean, variance } = tf.moments(x, axes);
    const stats = { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count };
    return { y: tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS), stats };
  }
  const group = activeCollective();
  // data-parallel: the statistics (and below, the backward sums) are those of the whole batch, summed over
  // the replicas' shares, exactly as one replica computing the whole batch would normalise
  const { mean, variance, total } = group ? groupMoments(x, group) : { ...batchMoments(x), total: count };
  const stats = { mean, variance, count: total };
  // Same forward; closed-form backward (the statistics are constants here, their dependence on x is in
  // the formula): x̂ = (x − μ)/√(σ² + ε), dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/√(σ² + ε) · (dy − (dβ + x̂·dγ)/N).
  // Tensors made in the forward pass are disposed before the backward pass unless saved.
  const f = custom((xx: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: SaveFn) => {
    save([xx, g, mean, variance]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] =>
      tf.tidy(() => {
        const [x0, g0, m0, v0] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
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
    return { value: normalise(xx, mean, variance, g as tf.Tensor1D, bt as tf.Tensor1D), gradFunc };
  });
  return { y: f(x, gamma, beta), stats };
}

/**
 * (x − μ)/√(σ² + ε)·γ + β. NHWC: as x·scale + shift in one 1×1 depthwise convolution with bias (on wasm ~5×
 * faster than the FusedBatchNorm kernel; equal to float rounding).
 */
function normalise(x: tf.Tensor, mean: tf.Tensor1D, variance: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
  if (!fusedAffine(x)) return tf.batchNorm(x, mean, variance, beta, gamma, BN_EPS);
  return tf.tidy(() => channelAffine(x as tf.Tensor4D, bnAffine(gamma, beta, mean, variance), false));
}

/** Whether per-channel affine maps of x go through channelAffine (NHWC on wasm, where it is fastest). */
const fusedAffine = (x: tf.Tensor): boolean => x.rank === 4 && tf.getBackend() === 'wasm';

/** x·scale + shift per channel of an NHWC tensor (then ReLU), as one 1×1 depthwise conv with bias. */
function channelAffine(x: tf.Tensor4D, a: Affine, relu: boolean): tf.Tensor4D {
  const filter = tf.reshape(a.scale, [1, 1, a.scale.size, 1]) as tf.Tensor4D;
  return tf.fused.depthwiseConv2d({ x, filter, strides: 1, pad: 'valid', bias: a.shift, activation: relu ? 'relu' : 'linear' });
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

/** relu(bn(conv(x, w) + b)) as one convolution: the BatchNorm's affine map folded into w and b. */
export function convAffineRelu(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, a: Affine, pad: 'valid' | 'same'): tf.Tensor4D {
  const filter = tf.mul(w, a.scale) as tf.Tensor4D; // scales each output channel
  const bias = tf.add(tf.mul(b, a.scale), a.shift) as tf.Tensor1D;
  return tf.fused.conv2d({ x, filter, strides: 1, pad, bias, activation: 'relu' });
}

/** conv(x, w) + b as one kernel. */
export function convBias(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, pad: 'valid' | 'same'): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: w, strides: 1, pad, bias: b });
}

/** Global mean over H and W as one average-pooling window (forward only). */
export function globalMeanPoolEval(x: tf.Tensor4D): tf.Tensor2D {
  const [B, H, W, C] = x.shape;
  return tf.reshape(tf.avgPool(x, [H, W], 1, 'valid'), [B, C]) as tf.Tensor2D;
}

/** Global mean over H and W: [B, H, W, C] → [B, C]. */
export function globalMeanPool(x: tf.Tensor4D): tf.Tensor2D {
  if (!fastGradientsActive()) return tf.mean(x, [1, 2]) as tf.Tensor2D;
  const [B, H, W, C] = x.shape;
  // backward: dy/(H·W) copied to every position, by a nearest-neighbour resize of [B,1,1,C]
  const f = custom((xx: tf.Tensor) => ({
    // on wasm one average-pool window is ~10× faster than the Mean kernel
    value: tf.getBackend() === 'wasm' ? globalMeanPoolEval(xx as tf.Tensor4D) : tf.mean(xx, [1, 2]),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() => tf.image.resizeNearestNeighbor(tf.reshape(tf.div(dy, H * W), [B, 1, 1, C]) as tf.Tensor4D, [H, W])),
  }));
  return f(x) as tf.Tensor2D;
}

/** 2×2 average pooling, stride 2. */
export function avgPool2(x: tf.Tensor4D): tf.Tensor4D {
  if (!fastGradientsActive()) return tf.avgPool(x, 2, 2, 'valid');
  const [, H, W] = x.shape;
  // backward: dy/4 copied to its 2×2 window (nearest-neighbour ×2 upsampling); an odd last row/column
  // took no part in the forward pass and gets zero
  const f = custom((xx: tf.Tensor) => ({
    value: tf.avgPool(xx as tf.Tensor4D, 2, 2, 'valid'),
    gradFunc: (dy: tf.Tensor) =>
      tf.tidy(() => {
        const [, h, w] = dy.shape;
        let g = tf.image.resizeNearestNeighbor(tf.mul(dy, 0.25) as tf.Tensor4D, [2 * h, 2 * w]);
        if (2 * h !== H || 2 * w !== W) g = tf.pad(g, [[0, 0], [0, H - 2 * h], [0, W - 2 * w], [0, 0]]);
        return g;
      }),
  }));
  return f(x) as tf.Tensor4D;
}

export function relu<T extends tf.Tensor>(x: T): T {
  if (!fastGradientsActive()) return tf.relu(x);
  // same forward; the backward pass keeps only the output (x > 0 ⇔ relu(x) > 0) and frees it and dy as
  // soon as it has run
  const f = custom((xx: tf.Tensor, save: SaveFn) => {
    const y = tf.relu(xx);
    save([y]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor => {
      const dx = tf.tidy(() => tf.mul(dy, tf.step(saved[0])));
      dy.dispose();
      saved[0].dispose();
      return dx;
    };
    return { value: y, gradFunc };
  });
  return f(x) as T;
}

export const BN_MOMENTUM = 0.1; // PyTorch: running = 0.9·running + 0.1·batch (tfjs-layers uses 0.99)
