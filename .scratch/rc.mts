import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { lossAndGrads, disposeKept } from '../src/train/step.ts';
import { referenceConfig, referenceBatch, REFERENCE_DATA } from '../src/commands/bench.ts';
const backend = process.argv[2] ?? 'wasm';
const D = Number(process.argv[3] ?? 10), B = Number(process.argv[4] ?? 64);
await selectBackend(backend);
const c = referenceConfig(D);
const l = createLearner(c, REFERENCE_DATA.inputShape, 10, 60000);
const { x, y } = referenceBatch(B);
const res: Record<string, Map<string, Float32Array>> = {};
for (const rc of [false, true, false, true]) {
  l.recompute = rc;
  let out: Map<string, Float32Array> = new Map();
  const t0 = performance.now();
  const prof = await tf.profile(() => {
    const r = lossAndGrads(l, x, y);
    for (const [n, g] of r.grads) { out.set(n, g.dataSync() as Float32Array); g.dispose(); }
    out.set('loss', r.value.dataSync() as Float32Array); r.value.dispose();
    for (const b of r.batchStats) out.set('stat:' + b.prefix + b.depth + out.size, b.stats.variance.dataSync() as Float32Array);
    disposeKept(r.batchStats, r.extras);
  });
  console.log(`recompute=${rc} peak=${(prof.peakBytes / 2 ** 20).toFixed(1)} MiB ms=${(performance.now() - t0).toFixed(0)} tensors=${tf.memory().numTensors}`);
  res[String(rc)] = out;
}
let diff = 0, n = 0;
for (const [k, a] of res['false']) { const b = res['true'].get(k)!; if (!b) { console.log('missing', k); continue; } for (let i = 0; i < a.length; i++) { if (a[i] !== b[i]) diff++; n++; } }
console.log('differing values', diff, 'of', n, 'keys', res['false'].size, res['true'].size);
