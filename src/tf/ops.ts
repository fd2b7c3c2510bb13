// The differentiable primitives the model is built from. Layouts are TF.js's: images NHWC, conv weights
// [kh, kw, in, out], linear weights [in, out]. The model calls only these, so their gradients can be made
// fast for the wasm backend in one place without touching the model (the parity test guards the numbers).
import { tf } from './tf.ts';
import { channelSum, fastGradientsActive, registerFastConvGradient } from './fast-grads.ts';
import { custom, type SaveFn } from './custom.ts';
import type { Affine } from './batchnorm.ts';

// The gradient of every conv2d (stride 1) becomes the fast one when fast gradients are active (wasm).
registerFastConvGradient();

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

// ---- eval mode (forward only): BatchNorm folded into the kernels next to it (batchnorm.ts's Affine) ----

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
  // backward: dy/(H·W) copied to every position
  const f = custom((xx: tf.Tensor) => ({
    // on wasm one average-pool window is ~10× faster than the Mean kernel
    value: tf.getBackend() === 'wasm' ? globalMeanPoolEval(xx as tf.Tensor4D) : tf.mean(xx, [1, 2]),
    gradFunc: (dy: tf.Tensor) => tf.tidy(() => repeat(repeat(tf.reshape(tf.div(dy, H * W), [B, 1, 1, C]), 2, W), 1, H)),
  }));
  return f(x) as tf.Tensor2D;
}

/**
 * `times` copies of t side by side along `axis` (of size 1): exact copies, as one Concat, which on wasm
 * copies whole rows (~2× faster than the ResizeNearestNeighbor kernel for the head's [B,1,1,C] → [B,H,W,C],
 * ~4× at batch 512; tf.tile there is ~100× slower).
 */
function repeat(t: tf.Tensor, axis: number, times: number): tf.Tensor {
  return times === 1 ? t : tf.concat(Array<tf.Tensor>(times).fill(t), axis);
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
        const [B, h, w, C] = dy.shape;
        const q = tf.reshape(tf.mul(dy, 0.25), [B, h, 1, w, 1, C]);
        let g = tf.reshape(repeat(repeat(q, 4, 2), 2, 2), [B, 2 * h, 2 * w, C]);
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

