// The fast gradients of src/tf/ops.ts (custom BatchNorm / bias / pooling gradients and the replaced Conv2D
// gradient) against (a) tf.grads of the plain ops on the cpu backend and (b) central finite differences of
// a float64 JS implementation. Forward values must not change at all.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { setFastGradients } from '../src/tf/fast-grads.ts';
import { avgPool2, conv2d, globalMeanPool } from '../src/tf/ops.ts';
import { batchNormTrain, BN_EPS } from '../src/tf/batchnorm.ts';

type Arr = number[];
const wave = (n: number, a: number, b: number, s = 1): Arr => Array.from({ length: n }, (_, i) => s * Math.sin(a * i + b));
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  shapes: number[][]; // input shapes; every input gets a gradient
  outShape: number[];
  tfOp: (xs: tf.Tensor[]) => tf.Tensor;
  ref: (xs: Arr[]) => Arr; // float64 forward
}

function convRef(x: Arr, xs: number[], w: Arr, ws: number[], b: Arr, pad: 'same' | 'valid'): Arr {
  const [B, H, W, C] = xs;
  const [K1, K2, , O] = ws;
  const pt = pad === 'same' ? (K1 - 1) >> 1 : 0;
  const pl = pad === 'same' ? (K2 - 1) >> 1 : 0;
  const Ho = pad === 'same' ? H : H - K1 + 1;
  const Wo = pad === 'same' ? W : W - K2 + 1;
  const y: Arr = [];
  for (let n = 0; n < B; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let o = 0; o < O; o++) {
          let v = b[o];
          for (let i = 0; i < K1; i++)
            for (let j = 0; j < K2; j++) {
              const yy = oy + i - pt;
              const xx = ox + j - pl;
              if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
              for (let c = 0; c < C; c++) v += x[((n * H + yy) * W + xx) * C + c] * w[((i * K2 + j) * C + c) * O + o];
            }
          y.push(v);
        }
  return y;
}

function bnRef(x: Arr, g: Arr, b: Arr, C: number): Arr {
  const N = x.length / C;
  const y = new Array(x.length);
  for (let c = 0; c < C; c++) {
    let m = 0;
    for (let n = 0; n < N; n++) m += x[n * C + c];
    m /= N;
    let v = 0;
    for (let n = 0; n < N; n++) v += (x[n * C + c] - m) ** 2;
    v /= N;
    for (let n = 0; n < N; n++) y[n * C + c] = ((x[n * C + c] - m) / Math.sqrt(v + BN_EPS)) * g[c] + b[c];
  }
  return y;
}

function poolRef(x: Arr, [B, H, W, C]: number[], k: number | 'global'): Arr {
  const kh = k === 'global' ? H : k;
  const kw = k === 'global' ? W : k;
  const Ho = Math.floor(H / kh);
  const Wo = Math.floor(W / kw);
  const y: Arr = [];
  for (let n = 0; n < B; n++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let c = 0; c < C; c++) {
          let s = 0;
          for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) s += x[((n * H + oy * kh + i) * W + ox * kw + j) * C + c];
          y.push(s / (kh * kw));
        }
  return y;
}

const convCase = (name: string, xs: number[], ws: number[], pad: 'same' | 'valid'): Case => {
  const Ho = pad === 'same' ? xs[1] : xs[1] - ws[0] + 1;
  const Wo = pad === 'same' ? xs[2] : xs[2] - ws[1] + 1;
  return {
    name,
    shapes: [xs, ws, [ws[3]]],
    outShape: [xs[0], Ho, Wo, ws[3]],
    tfOp: ([x, w, b]) => conv2d(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, pad),
    ref: ([x, w, b]) => convRef(x, xs, w, ws, b, pad),
  };
};

const CASES: Case[] = [
  convCase("conv2d 3×3 'same' + bias", [2, 5, 4, 3], [3, 3, 3, 4], 'same'),
  convCase("conv2d 1×1 'valid' + bias (more in than out channels)", [2, 3, 4, 5], [1, 1, 5, 3], 'valid'),
  convCase("conv2d 1×1 'valid' + bias (fewer in than out channels)", [2, 3, 4, 3], [1, 1, 3, 5], 'valid'),
  convCase("conv2d 5×5 'valid' on one channel + bias (the stem)", [2, 7, 6, 1], [5, 5, 1, 3], 'valid'),
  {
    name: 'batchNormTrain 4-D',
    shapes: [[3, 2, 3, 4], [4], [4]],
    outShape: [3, 2, 3, 4],
    tfOp: ([x, g, b]) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D).y,
    ref: ([x, g, b]) => bnRef(x, g, b, 4),
  },
  {
    name: 'batchNormTrain 2-D',
    shapes: [[6, 5], [5], [5]],
    outShape: [6, 5],
    tfOp: ([x, g, b]) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D).y,
    ref: ([x, g, b]) => bnRef(x, g, b, 5),
  },
  {
    name: 'batchNormTrain statistics (mean and biased variance)',
    shapes: [[3, 2, 2, 3]],
    outShape: [2, 3],
    tfOp: ([x]) => {
      const { stats } = batchNormTrain(x, tf.ones([3]) as tf.Tensor1D, tf.zeros([3]) as tf.Tensor1D);
      return tf.stack([stats.mean, stats.variance]);
    },
    ref: ([x]) => {
      const C = 3;
      const N = x.length / C;
      const m = [0, 1, 2].map((c) => x.filter((_, i) => i % C === c).reduce((a, v) => a + v, 0) / N);
      const v = [0, 1, 2].map((c) => x.filter((_, i) => i % C === c).reduce((a, u) => a + (u - m[c]) ** 2, 0) / N);
      return [...m, ...v];
    },
  },
  {
    name: 'globalMeanPool',
    shapes: [[2, 3, 4, 5]],
    outShape: [2, 5],
    tfOp: ([x]) => globalMeanPool(x as tf.Tensor4D),
    ref: ([x]) => poolRef(x, [2, 3, 4, 5], 'global'),
  },
  {
    name: 'avgPool2 (even)',
    shapes: [[2, 4, 6, 3]],
    outShape: [2, 2, 3, 3],
    tfOp: ([x]) => avgPool2(x as tf.Tensor4D),
    ref: ([x]) => poolRef(x, [2, 4, 6, 3], 2),
  },
  {
    name: 'avgPool2 (odd: last row/column unused)',
    shapes: [[2, 5, 3, 2]],
    outShape: [2, 2, 1, 2],
    tfOp: ([x]) => avgPool2(x as tf.Tensor4D),
    ref: ([x]) => poolRef(x, [2, 5, 3, 2], 2),
  },
];

function inputsOf(c: Case): Arr[] {
  // BatchNorm γ around 1 so the case is well conditioned; everything else in (−1, 1)
  return c.shapes.map((s, k) => wave(size(s), 0.37 + 0.21 * k, 0.1 + k, 1).map((v) => (c.name.startsWith('batchNorm') && k === 1 ? 1 + 0.5 * v : v)));
}

/** value and gradients of Σ op(inputs) ⊙ r with TF.js on the current backend. */
function tfRun(c: Case, inputs: Arr[], r: Arr): { y: Float32Array; grads: Float32Array[] } {
  return tf.tidy(() => {
    const xs = inputs.map((v, k) => tf.tensor(v, c.shapes[k]));
    const rt = tf.tensor(r, c.outShape);
    const y = c.tfOp(xs).dataSync() as Float32Array;
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(c.tfOp(a), rt)))(xs).map((g) => g.dataSync() as Float32Array);
    return { y, grads };
  });
}

async function run(c: Case, backend: 'cpu' | 'wasm', fast: 'on' | 'off'): Promise<{ y: Float32Array; grads: Float32Array[] }> {
  await selectBackend(backend);
  setFastGradients(fast);
  try {
    const inputs = inputsOf(c);
    return tfRun(c, inputs, wave(size(c.outShape), 1.3, 0.4));
  } finally {
    setFastGradients('auto');
  }
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, what: string, rel = 2e-4, abs = 2e-5): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const tol = abs + rel * Math.abs(b[i]);
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

after(() => setFastGradients('auto'));

describe('fast gradients of the model ops', () => {
  for (const c of CASES) {
    it(`${c.name}: same forward, gradients equal cpu autodiff and finite differences`, async () => {
      const plain = await run(c, 'cpu', 'off');
      const fastCpu = await run(c, 'cpu', 'on');
      const fastWasm = await run(c, 'wasm', 'on');
      const autoWasm = await run(c, 'wasm', 'off');
      assert.deepEqual(fastCpu.y, plain.y, 'forward values are unchanged on cpu');
      // on wasm, train-mode BatchNorm's forward uses other kernels (average pools, a depthwise conv)
      close(fastWasm.y, autoWasm.y, 'forward values on wasm equal the plain ops\' to float rounding', 1e-5, 1e-6);
      // float64 central differences of L = Σ ref(inputs) ⊙ r
      const inputs = inputsOf(c);
      const r = wave(size(c.outShape), 1.3, 0.4);
      const loss = (xs: Arr[]): number => c.ref(xs).reduce((s, v, i) => s + v * r[i], 0);
      close(Array.from(plain.y), c.ref(inputs), 'forward vs float64 reference', 1e-4, 1e-5);
      const h = 1e-5;
      inputs.forEach((x, k) => {
        const fd = x.map((_, i) => {
          const p = inputs.map((v) => [...v]);
          const m = inputs.map((v) => [...v]);
          p[k][i] += h;
          m[k][i] -= h;
          return (loss(p) - loss(m)) / (2 * h);
        });
        close(fastCpu.grads[k], plain.grads[k], `input ${k}: fast (cpu) vs tf.grads of plain ops (cpu)`);
        close(fastWasm.grads[k], plain.grads[k], `input ${k}: fast (wasm) vs tf.grads of plain ops (cpu)`);
        close(fastCpu.grads[k], fd, `input ${k}: fast (cpu) vs finite differences`, 1e-3, 1e-4);
        close(fastWasm.grads[k], fd, `input ${k}: fast (wasm) vs finite differences`, 1e-3, 1e-4);
      });
    });
  }

  it('fast gradients are on for wasm and off elsewhere by default', async () => {
    const { fastGradientsActive } = await import('../src/tf/fast-grads.ts');
    await selectBackend('wasm');
    assert.equal(fastGradientsActive(), true);
    await selectBackend('cpu');
    assert.equal(fastGradientsActive(), false);
  });
});
