// Minibatches as tensors. Indices come from the caller (a seeded permutation for training, 0..n-1 in
// order for evaluation); the caller disposes the returned tensors.
import { tf } from '../tf/tf.ts';
import { makeBatch } from '../data/batch.ts';
import type { Dataset, Split } from '../data/types.ts';

export interface TensorBatch {
  x: tf.Tensor; // [B, H, W, C] or [B, dim], normalised
  y: tf.Tensor1D; // [B] int32
  size: number;
}

export function tensorBatch(ds: Dataset, split: Split, indices: ArrayLike<number>): TensorBatch {
  const b = makeBatch(ds, split, indices);
  return { x: tf.tensor(b.x, b.shape, 'float32'), y: tf.tensor1d(b.y, 'int32'), size: indices.length };
}

/** [start, end) ranges covering n examples in batches of `size` (0 = one full batch). */
export function batchRanges(n: number, size: number): [number, number][] {
  const step = size > 0 ? size : n;
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += step) out.push([s, Math.min(n, s + step)]);
  return out;
}

/** Training batches: like batchRanges, but a final batch of one example joins the previous one, because
 * BatchNorm's unbiased variance needs at least two. */
export function trainBatchRanges(n: number, size: number): [number, number][] {
  const r = batchRanges(n, size);
  if (r.length > 1 && r[r.length - 1][1] - r[r.length - 1][0] < 2) {
    const last = r.pop()!;
    r[r.length - 1][1] = last[1];
  }
  return r;
}

export function range(start: number, end: number): Uint32Array {
  const out = new Uint32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}
