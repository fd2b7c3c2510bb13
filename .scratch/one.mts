import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { referenceConfig, referenceBatch, REFERENCE_DATA } from '../src/commands/bench.ts';
import { wasmHeapBytes } from '../src/train/memory.ts';
Error.stackTraceLimit = 80;
await selectBackend('wasm');
const [D, B] = process.argv.slice(2).map(Number);
const l = createLearner(referenceConfig(D), REFERENCE_DATA.inputShape, 10, 60000);
l.recompute = process.argv[4] !== 'off';
const { x, y } = referenceBatch(B);
for (let i = 0; i < 2; i++) { const t0 = performance.now(); const s = trainStep(l, x, y); console.log(`step ${i} loss ${s.loss.toFixed(4)} ${(performance.now() - t0).toFixed(0)} ms heap ${(wasmHeapBytes(tf.backend())! / 2 ** 20).toFixed(0)} MiB tensors ${tf.memory().numTensors}`); }
