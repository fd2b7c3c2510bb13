// A quick check that the engine computes on this adapter: a 3×3 convolution's weight gradient (the kernel
// TF.js got slowest) through the engine's kernels against the plain float64 reference. For `vds doctor`.
import { engineDevice } from './device.ts';
import { Gpu } from './gpu.ts';
import { convDw, convDwRef, dwReduce } from './kernels/conv.ts';

export async function engineCheck(): Promise<{ ok: boolean; maxRelError: number; detail: string }> {
  const s = { B: 2, H: 5, W: 4, Ci: 3, Co: 2, K: 3, pad: 1 };
  const inp = Float32Array.from({ length: s.B * s.H * s.W * s.Ci }, (_, i) => Math.sin(0.7 * i + 0.3));
  const dout = Float32Array.from({ length: s.B * s.H * s.W * s.Co }, (_, i) => Math.sin(2.1 * i + 1));
  const per = (s.K * s.K * s.Ci + 1) * s.Co;
  const chunk = 7;
  const parts = Math.ceil((s.B * s.H * s.W) / chunk);
  const gpu = new Gpu((await engineDevice()).device);
  try {
    const buf = (v: Float32Array) => {
      const b = gpu.buffer(v.length, 'check');
      gpu.write(b, 0, v);
      return b;
    };
    const [x, d, none, partial, grads] = [buf(inp), buf(dout), buf(new Float32Array(4)), buf(new Float32Array(per * parts)), buf(new Float32Array(per))];
    gpu.run([
      gpu.dispatch(convDw, { ...s, act: 0, sOff: 0, gOff: 0, beOff: 0, chunk, parts }, [x, d, none, none, partial], { threads: per * parts }),
      gpu.dispatch(dwReduce, { per, Co: s.Co, parts, wOff: 0, bOff: per - s.Co }, [partial, grads], { threads: per }),
    ]);
    const got = await gpu.read(grads, 0, per);
    const ref = convDwRef(s, inp, dout, null);
    const want = [...ref.dw, ...ref.db];
    let worst = 0;
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i] - w) / Math.max(1e-3, Math.abs(w)))));
    return { ok: worst < 1e-4, maxRelError: worst, detail: `3×3 conv filter gradient, ${per} values, against float64` };
  } finally {
    gpu.destroy();
  }
}
