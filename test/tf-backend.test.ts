// Backend selection and the Conv2DBackpropFilter kernel vds adds to the wasm backend: equal to the cpu
// backend's kernel and to central finite differences computed in float64.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { backendInfo, selectBackend } from '../src/tf/backend.ts';
import { VdsError } from '../src/util/errors.ts';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** Deterministic values in (−1, 1). */
const wave = (n: number, a: number, b: number): number[] => Array.from({ length: n }, (_, i) => Math.sin(a * i + b));

/** float64 reference of conv2d (NHWC, HWIO), stride s, pads resolved by TF.js's own conv info. */
function convRef(x: number[], xs: number[], w: number[], ws: number[], s: number, pad: Pad): { y: number[]; shape: number[] } {
  const info = tf.backend_util.computeConv2DInfo(xs as [number, number, number, number], ws as [number, number, number, number], s, 1, pad);
  const [B, H, W, C] = xs;
  const [K1, K2, , O] = ws;
  const Ho = info.outHeight;
  const Wo = info.outWidth;
  const y = new Array(B * Ho * Wo * O).fill(0);
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let o = 0; o < O; o++) {
          let v = 0;
          for (let i = 0; i < K1; i++)
            for (let j = 0; j < K2; j++) {
              const yy = oy * s + i - info.padInfo.top;
              const xx = ox * s + j - info.padInfo.left;
              if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
              for (let c = 0; c < C; c++) v += x[((b * H + yy) * W + xx) * C + c] * w[((i * K2 + j) * C + c) * O + o];
            }
          y[((b * Ho + oy) * Wo + ox) * O + o] = v;
        }
  return { y, shape: [B, Ho, Wo, O] };
}

function filterGrad(x: number[], xs: number[], dy: number[], dys: number[], ws: number[], s: number, pad: Pad): Float32Array {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const dyt = tf.tensor(dy, dys);
    const g = tf.grad((w: tf.Tensor) => tf.conv2d(xt, w as tf.Tensor4D, s, pad))(tf.zeros(ws), dyt);
    return g.dataSync() as Float32Array;
  });
}

const CASES: { name: string; xs: number[]; ws: number[]; s: number; pad: Pad }[] = [
  { name: "3×3 'same' stride 1", xs: [2, 6, 5, 3], ws: [3, 3, 3, 4], s: 1, pad: 'same' },
  { name: "5×5 'valid' stride 1, one input channel", xs: [3, 9, 8, 1], ws: [5, 5, 1, 4], s: 1, pad: 'valid' },
  { name: "1×1 'valid'", xs: [2, 4, 4, 5], ws: [1, 1, 5, 3], s: 1, pad: 'valid' },
  { name: "3×3 'valid' stride 2 (uneven: last row unused)", xs: [2, 8, 7, 2], ws: [3, 3, 2, 3], s: 2, pad: 'valid' },
  { name: "3×3 'same' stride 2", xs: [2, 7, 6, 2], ws: [3, 3, 2, 3], s: 2, pad: 'same' },
  { name: '2×3 explicit pads', xs: [2, 5, 6, 2], ws: [2, 3, 2, 3], s: 1, pad: [[0, 0], [2, 1], [0, 2], [0, 0]] },
];

describe('selectBackend', () => {
  it('selects cpu and wasm by name and reports them', async () => {
    const cpu = await selectBackend('cpu');
    assert.deepEqual(cpu, { name: 'cpu', gpu: false, notes: [] });
    assert.equal(tf.getBackend(), 'cpu');
    const wasm = await selectBackend('wasm');
    assert.equal(wasm.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const info = await backendInfo();
    assert.equal(info.tfjs, tf.version_core);
    assert.equal(info.backend, 'wasm');
    assert.equal(info.wasmSimd, true);
  });

  it('auto falls through to the first backend that works and says why the others were skipped', async () => {
    const r = await selectBackend('auto');
    const order = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];
    assert.ok(order.includes(r.name));
    assert.equal(r.notes.length, order.indexOf(r.name));
    r.notes.forEach((n, i) => assert.match(n, new RegExp(`^${order[i]} skipped: .+`)));
  });

  it('a forced backend that fails, or an unknown one, is a VdsError naming it', async () => {
    await assert.rejects(selectBackend('webgl'), (e: unknown) => e instanceof VdsError && /unknown backend "webgl"/.test(e.message));
    let tfnode = true;
    try {
      // @ts-ignore optional dependency
      await import('@tensorflow/tfjs-node');
    } catch {
      tfnode = false;
    }
    if (!tfnode) {
      await assert.rejects(selectBackend('tensorflow'), (e: unknown) => e instanceof VdsError && /backend "tensorflow" is not available: .+/.test(e.message));
    }
  });
});

describe('wasm Conv2DBackpropFilter', () => {
  for (const c of CASES) {
    it(`${c.name}: equals the cpu backend and finite differences`, async () => {
      const n = (s: number[]): number => s.reduce((a, b) => a * b, 1);
      const x = wave(n(c.xs), 0.37, 0.1);
      const w0 = wave(n(c.ws), 0.91, 0.5).map((v) => 0.5 * v);
      const { shape: ys } = convRef(x, c.xs, w0, c.ws, c.s, c.pad);
      const dy = wave(n(ys), 1.7, 0.2);
      await selectBackend('wasm');
      const gw = filterGrad(x, c.xs, dy, ys, c.ws, c.s, c.pad);
      await selectBackend('cpu');
      const gc = filterGrad(x, c.xs, dy, ys, c.ws, c.s, c.pad);
      // loss(w) = Σ conv(x, w) ⊙ dy is linear in w: central differences are exact up to rounding
      const loss = (w: number[]): number => convRef(x, c.xs, w, c.ws, c.s, c.pad).y.reduce((a, v, i) => a + v * dy[i], 0);
      const h = 1e-3;
      for (let k = 0; k < w0.length; k++) {
        const p = [...w0];
        const m = [...w0];
        p[k] += h;
        m[k] -= h;
        const fd = (loss(p) - loss(m)) / (2 * h);
        const tol = 1e-4 * (1 + Math.abs(fd));
        assert.ok(Math.abs(gw[k] - gc[k]) <= tol, `[${k}] wasm ${gw[k]} vs cpu ${gc[k]}`);
        assert.ok(Math.abs(gw[k] - fd) <= tol, `[${k}] wasm ${gw[k]} vs finite differences ${fd}`);
      }
    });
  }

  it('rejects what it does not support, clearly', async () => {
    await selectBackend('wasm');
    const x = tf.ones([1, 5, 5, 1]) as tf.Tensor4D;
    const dy = tf.ones([1, 1, 1, 1]) as tf.Tensor4D;
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 2, filterShape: [3, 3, 1, 1] }),
      /dilation 1 only/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [5, 5, 1, 1] }),
      /NHWC only/,
    );
    x.dispose();
    dy.dispose();
  });
});
