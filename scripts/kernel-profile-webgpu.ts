// Per-kernel GPU time of one training step and one eval batch of the reference network (D = 10) on the webgpu
// backend, from tf.profile's kernelTimeMs (timestamp queries). How docs/gpu.md's H200 numbers were taken:
//   node --import tsx scripts/kernel-profile-webgpu.ts [BATCH]
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { evalBatch, referenceBatch, referenceConfig, REFERENCE_DATA } from '../src/commands/bench.ts';
await selectBackend('webgpu-tfjs');
const batch = Number(process.argv[2] ?? 128);
const l = createLearner(referenceConfig(10), REFERENCE_DATA.inputShape, REFERENCE_DATA.classes, REFERENCE_DATA.nTrain);
const { x, y } = referenceBatch(batch);
for (let i = 0; i < 2; i++) await trainStep(l, x, y);
await evalBatch(l, x);
for (const [what, f] of [['train', () => trainStep(l, x, y)], ['eval', () => evalBatch(l, x)]] as const) {
  const t0 = performance.now();
  const info = await tf.profile(async () => { await f(); return []; });
  const wall = performance.now() - t0;
  const by = new Map<string, { n: number; ms: number; err: number }>();
  for (const k of info.kernels) {
    const t = await (k as unknown as { kernelTimeMs: number | { error: string } | Promise<number | { error: string }> }).kernelTimeMs;
    const e = by.get(k.name) ?? { n: 0, ms: 0, err: 0 };
    e.n++;
    if (typeof t === 'number') e.ms += t; else e.err++;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`${what} batch ${batch}: profiled wall ${wall.toFixed(0)} ms, ${info.kernels.length} kernels, summed GPU time ${total.toFixed(1)} ms`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms).slice(0, 14)) console.log(`  ${name.padEnd(28)} ${String(e.n).padStart(5)} calls ${e.ms.toFixed(1).padStart(9)} ms${e.err ? ` (${e.err} untimed)` : ''}`);
}
