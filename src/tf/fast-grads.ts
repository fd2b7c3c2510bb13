// Gradients that compute the same quantities as TF.js's built-in ones with kernels that are cheap on the
// wasm backend (measured there at B=128, 12×12, 32–64 channels):
//  - conv input gradient: conv2d of dy with the spatially flipped, in/out-transposed kernel
//    (Conv2DBackpropInput is ~10–20× slower);
//  - conv filter gradient: 1×1 → Xᵀ·dY with the transpose done explicitly (matMul's transposeA is ~4×
//    slower); few input taps (the 5×5 stem on one channel) → im2col by an identity-filter conv, then one
//    matmul; otherwise one conv2d that contracts over the batch (see wasm-kernels.ts);
//  - BatchNorm: closed-form backward (autodiff through tf.moments costs several times the forward), avg
//    and mean pooling: dy copied over each window by Concat instead of AvgPoolGrad / ones-and-multiply (ops.ts).
// Gradients agree with the built-in ones to float32 rounding (different summation order). Forward values
// are the plain ops' except train-mode BatchNorm on wasm, whose statistics are average pools and whose
// normalisation is one depthwise convolution (equal to float rounding, ~6× faster than tf.moments and
// FusedBatchNorm there). Used on wasm by default; see setFastGradients.
import { tf } from './tf.ts';

export type FastGradMode = 'auto' | 'on' | 'off';
let mode: FastGradMode = 'auto';

/** 'auto' (default): fast gradients on the wasm backend only; 'on'/'off': everywhere / nowhere (tests). */
export function setFastGradients(m: FastGradMode): void {
  mode = m;
}

export function fastGradientsActive(): boolean {
  return mode === 'on' || (mode === 'auto' && tf.getBackend() === 'wasm');
}

/**
 * Σ over every axis but the last: [..., C] → [C]. For NHWC tensors this is one XNNPACK average pool over
 * the whole [B·H, W] plane times its size (~10× faster on wasm than the Sum kernel, which transposes the
 * channels to the front first); other ranks use tf.sum.
 */
export function channelSum(t: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    if (t.rank !== 4 || tf.getBackend() !== 'wasm') return tf.sum(t, t.shape.slice(0, -1).map((_, i) => i)) as tf.Tensor1D;
    const [B, H, W] = t.shape;
    return tf.mul(channelMean(t as tf.Tensor4D), B * H * W) as tf.Tensor1D;
  });
}

/** Mean over every axis but the last of an NHWC tensor: one average pool over the [B·H, W] plane. */
function channelMean(t: tf.Tensor4D): tf.Tensor1D {
  const [B, H, W, C] = t.shape;
  const pooled = tf.avgPool(tf.reshape(t, [1, B * H, W, C]) as tf.Tensor4D, [B * H, W], 1, 'valid');
  return tf.reshape(pooled, [C]) as tf.Tensor1D;
}

/**
 * Mean and biased variance over every axis but the last, two-pass like tf.moments. For NHWC tensors on
 * wasm both passes are average pools (~8× faster than tf.moments, whose Mean kernel transposes first).
 */
export function channelMoments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  return tf.tidy(() => {
    if (x.rank !== 4 || tf.getBackend() !== 'wasm') {
      const m = tf.moments(x, x.shape.slice(0, -1).map((_, i) => i));
      return { mean: m.mean as tf.Tensor1D, variance: m.variance as tf.Tensor1D };
    }
    const mean = channelMean(x as tf.Tensor4D);
    return { mean, variance: channelMean(tf.squaredDifference(x, mean) as tf.Tensor4D) };
  });
}

type Pads = { top: number; bottom: number; left: number; right: number };

function convPads(xShape: readonly number[], filterShape: readonly number[], pad: unknown, dimRoundingMode?: 'floor' | 'round' | 'ceil'): Pads {
  const info = tf.backend_util.computeConv2DInfo(
    [...xShape] as [number, number, number, number],
    [...filterShape] as [number, number, number, number],
    1,
    1,
    pad as 'same' | 'valid' | number,
    dimRoundingMode,
  );
  return info.padInfo;
}

/** dL/dx of y = conv2d(x, w, stride 1, pads), dilation 1, NHWC. */
export function convInputGrad(dy: tf.Tensor4D, w: tf.Tensor4D, p: Pads): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw] = w.shape;
    let wt = tf.transpose(w, [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, out, in]
    if (kh > 1 || kw > 1) wt = tf.reverse(wt, [0, 1]);
    const pads: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [kh - 1 - p.top, kh - 1 - p.bottom],
      [kw - 1 - p.left, kw - 1 - p.right],
      [0, 0],
    ];
    const zero = pads.every(([a, b]) => a === 0 && b === 0);
    return tf.conv2d(dy, wt, 1, zero ? 'valid' : pads);
  });
}

/** dL/dw of y = conv2d(x, w, stride 1, pads), dilation 1, NHWC. */
export function convFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], p: Pads): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, C, O] = filterShape;
    const [B, Ho, Wo] = dy.shape;
    const N = B * Ho * Wo;
    const dy2 = tf.reshape(dy, [N, O]);
    const pads: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p.top, p.bottom],
      [p.left, p.right],
      [0, 0],
    ];
    const noPad = p.top === 0 && p.bottom === 0 && p.left === 0 && p.right === 0;
    if (kh === 1 && kw === 1 && noPad) {
      // Xᵀ·dY, or (dYᵀ·X)ᵀ: the [N, ·] transpose dominates, so transpose the narrower of the two
      const x2 = tf.reshape(x, [N, C]);
      const dw = C <= O ? tf.matMul(tf.transpose(x2), dy2) : tf.transpose(tf.matMul(tf.transpose(dy2), x2));
      return tf.reshape(dw, [kh, kw, C, O]) as tf.Tensor4D;
    }
    const taps = kh * kw * C;
    if (taps <= 32) {
      // im2col: an identity filter copies every tap into its own channel, ordered like w.reshape([taps, O])
      const eye = tf.reshape(tf.eye(taps), [kh, kw, C, taps]) as tf.Tensor4D;
      const patches = tf.conv2d(x, eye, 1, noPad ? 'valid' : pads); // [B, Ho, Wo, taps]
      const pt = tf.transpose(tf.reshape(patches, [N, taps])); // [taps, N]
      return tf.reshape(tf.matMul(pt, dy2), [kh, kw, C, O]) as tf.Tensor4D;
    }
    // contract over the batch: [C, H, W, B] ⊛ [Ho, Wo, B, O] → [C, kh, kw, O]
    const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D;
    const ft = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const r = tf.conv2d(xt, ft, 1, noPad ? 'valid' : pads);
    return tf.transpose(r, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

type GradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, () => tf.Tensor>;

let registered = false;

/**
 * Replaces the gradient of the Conv2D kernel by one that, when fast gradients are active and the conv has
 * stride 1, dilation 1 and NHWC layout, uses convInputGrad/convFilterGrad; otherwise the built-in gradient
 * runs. Per-input gradients stay lazy, so the input gradient of the stem (whose input is data) is never
 * computed. Idempotent.
 */
export function registerFastConvGradient(): void {
  if (registered) return;
  const builtin = tf.getGradient('Conv2D');
  if (!builtin) throw new Error('TF.js has no Conv2D gradient registered (is @tensorflow/tfjs loaded?)');
  const ones = (v: unknown): boolean => v === undefined || v === 1 || (Array.isArray(v) && v.every((e) => e === 1));
  const gradFunc: GradFunc = (dy, saved, attrs) => {
    const { strides, dilations, pad, dataFormat, dimRoundingMode } = attrs as Record<string, unknown>;
    if (!fastGradientsActive() || !ones(strides) || !ones(dilations) || (dataFormat !== undefined && dataFormat !== 'NHWC')) {
      return (builtin.gradFunc as unknown as GradFunc)(dy, saved, attrs);
    }
    const [x, w] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const p = convPads(x.shape, [...w.shape], pad, dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined);
    // The engine keeps every saved tensor and every intermediate gradient until the whole backward pass
    // ends; free ours as soon as they are spent. TF.js calls the thunks in input order (x, then filter):
    // x's gradient needs only dy and w, so x goes after the filter gradient, and dy too once x's gradient
    // has been taken (when it is not wanted — the stem, whose input is data — dy is left to the engine).
    let xDone = false;
    return {
      x: () => {
        const dx = convInputGrad(g, w, p);
        xDone = true;
        return dx;
      },
      filter: () => {
        const dw = convFilterGrad(x, g, w.shape, p);
        x.dispose();
        if (xDone) g.dispose();
        return dw;
      },
    };
  };
  tf.registerGradient({ kernelName: 'Conv2D', inputsToSave: ['x', 'filter'], gradFunc: gradFunc as unknown as tf.GradFunc });
  registered = true;
}
