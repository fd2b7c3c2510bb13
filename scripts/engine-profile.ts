// Where a training step of vds's WebGPU engine spends its time, kernel by kernel: each dispatch of the planned
// step is submitted alone and waited for (wall time, so on SwiftShader it is the CPU doing the GPU's work).
// Also the time to plan a pass (pipelines compiled, buffers and bind groups made).
//   node --import tsx scripts/engine-profile.ts [DEPTH] [BATCH] [OUTER] [INNER] [tfjs]
// With `tfjs` last, the same step on TF.js's WebGPU kernels instead (steady time only), for comparison.
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { referenceBatch, referenceConfig, REFERENCE_DATA } from '../src/commands/bench.ts';
import { trainStep } from '../src/train/step.ts';
import { WebGpuEngine } from '../src/engine/engine.ts';
import type { Step } from '../src/engine/gpu.ts';

const [depth, batch, outer, inner] = [3, 50, 8, 4].map((d, i) => Number(process.argv[2 + i] ?? d));
const tfjs = process.argv[6] === 'tfjs';
await selectBackend(tfjs ? 'webgpu-tfjs' : 'webgpu');
const c = referenceConfig(depth);
c.model = { ...c.model, outerWidth: outer, innerWidth: inner };
const l = createLearner(c, REFERENCE_DATA.inputShape, REFERENCE_DATA.classes, REFERENCE_DATA.nTrain);
if (tfjs) {
  const { x, y } = referenceBatch(batch);
  for (let i = 0; i < 2; i++) await trainStep(l, x, y);
  const t = performance.now();
  for (let i = 0; i < 3; i++) await trainStep(l, x, y);
  console.log(`D=${depth} B=${batch} ${outer}/${inner}: TF.js WebGPU steady step ${((performance.now() - t) / 3).toFixed(1)} ms`);
  process.exit(0);
}
const engine = await WebGpuEngine.start(l, REFERENCE_DATA.inputShape);
const xs = new Float32Array(batch * 28 * 28).map((_, i) => Math.sin(i));
const ys = Int32Array.from({ length: batch }, (_, i) => i % 10);
let t0 = performance.now();
await engine.stepBatch(l, xs, ys);
console.log(`D=${depth} B=${batch} ${outer}/${inner}: first step (planning, pipelines) ${(performance.now() - t0).toFixed(0)} ms`);
t0 = performance.now();
for (let i = 0; i < 3; i++) await engine.stepBatch(l, xs, ys);
console.log(`steady step: ${((performance.now() - t0) / 3).toFixed(1)} ms`);
// the planned steps of the training pass, one at a time
const pass = (engine as unknown as { passes: Map<string, { steps: Step[] }> }).passes.values().next().value!;
const by = new Map<string, { n: number; ms: number }>();
for (const s of pass.steps) {
  const name = 'kernel' in s ? s.kernel : 'copy';
  let best = Infinity; // the fastest of three: on a GPU a submit and its wait are tens of µs, on par with a kernel
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    engine.gpu.run([s]);
    await engine.gpu.done();
    best = Math.min(best, performance.now() - t);
  }
  const e = by.get(name) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += best;
  by.set(name, e);
}
const total = [...by.values()].reduce((a, e) => a + e.ms, 0);
console.log(`one dispatch at a time (each the fastest of 3 submits): ${pass.steps.length} steps, ${total.toFixed(1)} ms`);
for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(16)} ${String(e.n).padStart(4)} × ${(e.ms / e.n).toFixed(2).padStart(8)} ms = ${e.ms.toFixed(1).padStart(8)} ms`);
await engine.close();
process.exit(0);
