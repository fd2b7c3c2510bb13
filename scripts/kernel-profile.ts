// Where one replica's time goes: the reference network's train step and eval batch on this thread (wasm),
// split into the arithmetic kernels (convolutions and matrix products, which XNNPACK runs near its speed on
// these shapes) and everything else (BatchNorm, ReLU, pooling, transposes, SGD, the engine's own work). The
// arithmetic alone bounds what cutting the rest can reach: `floor_img_s` is the throughput if everything
// else took no time at all. Compare `vds bench` × (step_ms / arith_ms) with torch_anchor.py to see whether a
// speed target is reachable without faster kernels.
//
//   node --import tsx scripts/kernel-profile.ts [--depths 10,50] [--batch 64] [--reps 3] [--top 12] [--json]
//
// --batch is one replica's share: `vds bench` at batch 128 on two replicas runs 64 rows on each.
import { parseArgs } from 'node:util';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { createLearner, disposeLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { evalBatch, median, referenceBatch, referenceConfig, REFERENCE_DATA } from '../src/commands/bench.ts';

const { values } = parseArgs({
  options: {
    depths: { type: 'string', default: '10,50' },
    batch: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    top: { type: 'string', default: '12' },
    json: { type: 'boolean', default: false },
  },
});
const depths = values.depths!.split(',').map(Number);
const batch = Number(values.batch);
const reps = Number(values.reps);

/** Kernels that do the network's multiply-adds (the rest is data movement and bookkeeping around them). */
const ARITHMETIC = new Set(['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

await selectBackend('wasm');
let timing = false;
const byKernel = new Map<string, { calls: number; ms: number }>();
// every wasm kernel, timed when `timing` is on (wasm kernels are synchronous, so the wall time is theirs)
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: ((args: Parameters<typeof inner>[0]) => {
      if (!timing) return inner(args);
      const t0 = performance.now();
      const out = inner(args);
      const e = byKernel.get(k.kernelName) ?? { calls: 0, ms: 0 };
      e.calls++;
      e.ms += performance.now() - t0;
      byKernel.set(k.kernelName, e);
      return out;
    }) as typeof inner,
  });
}

interface Split {
  ms: number; // median wall time, uninstrumented
  kernels_ms: number; // every kernel (instrumented pass)
  arith_ms: number; // convolutions and matrix products
  calls: number; // kernel calls
  instrumented_ms: number; // wall time of the instrumented pass
  top: { kernel: string; calls: number; ms: number }[];
}

async function measure(run: () => Promise<unknown>): Promise<Split> {
  const plain: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    plain.push(performance.now() - t0);
  }
  byKernel.clear();
  timing = true;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) await run();
  const instrumented = (performance.now() - t0) / reps;
  timing = false;
  let kernels = 0;
  let arith = 0;
  let calls = 0;
  for (const [name, e] of byKernel) {
    kernels += e.ms;
    calls += e.calls;
    if (ARITHMETIC.has(name)) arith += e.ms;
  }
  const top = [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, Number(values.top))
    .map(([kernel, e]) => ({ kernel, calls: e.calls / reps, ms: round(e.ms / reps) }));
  return { ms: round(median(plain)), kernels_ms: round(kernels / reps), arith_ms: round(arith / reps), calls: calls / reps, instrumented_ms: round(instrumented), top };
}

const round = (v: number): number => Math.round(v * 10) / 10;

for (const depth of depths) {
  const l = createLearner(referenceConfig(depth), REFERENCE_DATA.inputShape, REFERENCE_DATA.classes, REFERENCE_DATA.nTrain);
  const { x, y } = referenceBatch(batch);
  await trainStep(l, x, y);
  await trainStep(l, x, y);
  await evalBatch(l, x);
  const train = await measure(() => trainStep(l, x, y));
  const evaluation = await measure(() => evalBatch(l, x));
  disposeLearner(l);
  x.dispose();
  y.dispose();
  // the floor scales the uninstrumented time by the arithmetic's share of the instrumented one
  const floor = (s: Split): number => round((batch / (s.ms * (s.arith_ms / s.instrumented_ms))) * 1000);
  const row = {
    depth,
    batch,
    train,
    eval: evaluation,
    train_img_s: round((batch / train.ms) * 1000),
    train_floor_img_s: floor(train),
    eval_img_s: round((batch / evaluation.ms) * 1000),
    eval_floor_img_s: floor(evaluation),
  };
  if (values.json) {
    console.log(JSON.stringify(row));
    continue;
  }
  for (const [what, s, now, fl] of [
    ['train step', train, row.train_img_s, row.train_floor_img_s],
    ['eval batch', evaluation, row.eval_img_s, row.eval_floor_img_s],
  ] as const) {
    const share = (v: number): string => `${((100 * v) / s.instrumented_ms).toFixed(0)}%`;
    console.log(
      `D=${depth} ${what} (batch ${batch}, one thread): ${s.ms} ms = ${now} img/s; instrumented ${s.instrumented_ms} ms: ` +
        `conv+matmul ${s.arith_ms} ms (${share(s.arith_ms)}), other kernels ${round(s.kernels_ms - s.arith_ms)} ms (${share(s.kernels_ms - s.arith_ms)}), ` +
        `outside kernels ${round(s.instrumented_ms - s.kernels_ms)} ms (${share(s.instrumented_ms - s.kernels_ms)}); ${s.calls} kernel calls. ` +
        `Arithmetic alone: ${fl} img/s (×${(fl / now).toFixed(2)}).`,
    );
    for (const t of s.top) console.log(`    ${t.ms.toFixed(1).padStart(8)} ms ${String(t.calls).padStart(6)} calls  ${t.kernel}`);
  }
}
process.exit(0);
