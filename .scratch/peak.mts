import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { lossAndGrads, disposeKept } from '../src/train/step.ts';
import { referenceConfig, REFERENCE_DATA } from '../src/commands/bench.ts';
await selectBackend('wasm');
const [D, B, outer, inner, hw, ch] = process.argv.slice(2).map(Number);
const c = referenceConfig(D); c.model.outerWidth = outer; c.model.innerWidth = inner;
const shape = [hw, hw, ch];
const l = createLearner(c, shape, 10, 60000);
const x = tf.randomNormal([B, ...shape]); const y = tf.zeros([B], 'int32') as tf.Tensor1D;
const out: string[] = [];
for (const rc of [false, true]) {
  l.recompute = rc;
  const before = tf.memory().numBytes;
  const prof = await tf.profile(() => { const r = lossAndGrads(l, x, y); for (const g of r.grads.values()) g.dispose(); r.value.dispose(); disposeKept(r.batchStats, r.extras); });
  out.push(`${rc ? 'rc' : 'plain'} ${((prof.peakBytes - before) / 2 ** 20).toFixed(1)}`);
}
console.log(`D=${D} B=${B} ${outer}/${inner} ${hw}x${hw}x${ch}: ${out.join('  ')} MiB  (base ${(tf.memory().numBytes/2**20).toFixed(1)})`);
