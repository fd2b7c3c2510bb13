import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { referenceConfig, referenceBatch, REFERENCE_DATA } from '../src/commands/bench.ts';
await selectBackend('wasm');
const l = createLearner(referenceConfig(10), REFERENCE_DATA.inputShape, 10, 60000);
const { x, y } = referenceBatch(64);
trainStep(l, x, y); trainStep(l, x, y);
let t0 = performance.now(); for (let i = 0; i < 3; i++) trainStep(l, x, y); console.log('step ms', ((performance.now() - t0) / 3).toFixed(0));
const p = await tf.profile(() => { trainStep(l, x, y); });
const by = new Map<string, { n: number; ms: number }>();
let total = 0;
for (const k of p.kernels) { const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0; total += ms; const e = by.get(k.name) ?? { n: 0, ms: 0 }; e.n++; e.ms += ms; by.set(k.name, e); }
console.log('kernels', p.kernels.length, 'kernel ms', total.toFixed(0));
for (const [n, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) console.log(n.padEnd(28), String(e.n).padStart(5), e.ms.toFixed(1).padStart(8));
