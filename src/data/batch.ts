// Minibatches for training: uint8 NHWC images become normalised float32 through a 256-entry lookup table
// per channel ((v/255 - mean)/std computed once per dataset), vectors are copied as they are.
import type { Dataset, Split } from './types.ts';

export interface Batch {
  x: Float32Array;
  y: Int32Array;
  shape: number[]; // [b, h, w, c] or [b, dim]
}

const tables = new WeakMap<Dataset, Float32Array>();

/** (v/255 − mean_c)/std_c for every byte value v and channel c: [c·256 + v] (what a GPU engine normalises with too). */
export function normalisationTable(ds: Dataset): Float32Array {
  let t = tables.get(ds);
  if (!t) {
    const c = ds.inputShape[ds.inputShape.length - 1];
    t = new Float32Array(256 * c);
    for (let ch = 0; ch < c; ch++) for (let v = 0; v < 256; v++) t[ch * 256 + v] = (v / 255 - ds.mean[ch]) / ds.std[ch];
    tables.set(ds, t);
  }
  return t;
}

export function makeBatch(ds: Dataset, split: Split, indices: ArrayLike<number>): Batch {
  const b = indices.length;
  const per = ds.inputShape.reduce((a, v) => a * v, 1);
  const x = new Float32Array(b * per);
  const y = new Int32Array(b);
  const shape = [b, ...ds.inputShape];
  for (let k = 0; k < b; k++) {
    const i = indices[k];
    if (!(i >= 0 && i < split.n)) throw new RangeError(`batch index ${i} outside 0..${split.n - 1}`);
    y[k] = split.y[i];
  }
  const src = split.x;
  if (src instanceof Float32Array) {
    for (let k = 0; k < b; k++) x.set(src.subarray(indices[k] * per, (indices[k] + 1) * per), k * per);
    return { x, y, shape };
  }
  const t = normalisationTable(ds);
  const c = ds.inputShape[ds.inputShape.length - 1];
  for (let k = 0; k < b; k++) {
    const s = indices[k] * per;
    const o = k * per;
    if (c === 1) {
      for (let j = 0; j < per; j++) x[o + j] = t[src[s + j]];
    } else if (c === 3) {
      for (let j = 0; j < per; j += 3) {
        x[o + j] = t[src[s + j]];
        x[o + j + 1] = t[256 + src[s + j + 1]];
        x[o + j + 2] = t[512 + src[s + j + 2]];
      }
    } else {
      for (let j = 0; j < per; j++) x[o + j] = t[(j % c) * 256 + src[s + j]];
    }
  }
  return { x, y, shape };
}
