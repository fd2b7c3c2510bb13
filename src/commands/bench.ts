// `vds bench`: training and evaluation throughput of the reference network (MNIST-shaped 28×28×1 input,
// outer width 64, inner 32) on the chosen backend. Training = the real train step (all-depth forward in
// train mode, ELBO, backward, SGD momentum update, running statistics); evaluation = the marginal
// predictive over all depths in eval mode; calibration = one batch of precise BatchNorm statistics. Warm-up, then the median of timed reps; tensors alive before and
// after (must not grow) and peak RSS.
import { tf, readFloats, takeFloats } from '../tf/tf.ts';
import { selectBackend } from '../tf/backend.ts';
import { ConvResNet } from '../model/index.ts';
import { marginalLogProbs } from '../vds/predict.ts';
import { createLearner, disposeLearner } from '../train/learner.ts';
import { defaultConfig } from '../config/defaults.ts';
import type { VdsConfig } from '../config/types.ts';
import { trainStep, type Learner } from '../train/step.ts';
import { batchStatistics } from '../train/calibrate.ts';
import { Rng } from '../util/rng.ts';
import { SplitEvaluator } from '../tf/split-eval.ts';
import { DataParallelTrainer } from '../train/data-parallel.ts';
import { resolveThreads, trainingReplicas } from '../train/parallelism.ts';
import { availableParallelism } from 'node:os';
import { VdsError } from '../util/errors.ts';
import { tryPlanMemory, wasmHeapBytes, type RecomputeMode } from '../train/memory.ts';
import { WebGpuEngine } from '../engine/engine.ts';
import { DAWN_BACKEND_ENV } from '../engine/device.ts';
import type { Dataset } from '../data/types.ts';
import { makeBatch } from '../data/batch.ts';

export interface BenchOptions {
  backend?: string;
  depths: number[];
  batch: number;
  reps: number;
  json: boolean;
}

export interface BenchResult {
  backend: string;
  depth: number;
  batch: number;
  train_img_s: number;
  eval_img_s: number;
  tensors_leaked: number;
  peak_rss_mb: number;
  train_step_ms: number; // median
  eval_batch_ms: number; // median
  threads: number; // training threads (data-parallel replicas on wasm)
  eval_threads: number; // 2: the batch is split with a worker thread, each half on one thread
  eval_img_s_1thread: number; // the same evaluation on this thread alone
  calib_img_s_1thread: number; // precise-statistics calibration (train-mode forward, no gradients), one thread
  recompute: boolean; // residual blocks recomputed in the backward pass (train/memory.ts)
  est_step_mb: number; // the memory plan's estimate of one replica's step peak
  heap_mb: number | null; // wasm: a worker replica's heap after the bench (its high-water mark; this thread's without workers)
  // the two WebGPU paths (backend webgpu: vds's engine; webgpu-tfjs: TF.js's kernels)
  engine?: string; // 'vds-webgpu' or 'tfjs-webgpu'
  dispatches_per_step?: number; // GPU dispatches (kernels) of one training step
  dispatches_per_eval_batch?: number; // of one evaluation batch
  encode_ms_per_step?: number; // median CPU time to encode and submit one step (not waiting for the GPU)
  null_device?: boolean; // Dawn's null device (VDS_DAWN_BACKEND=null): nothing computed, img/s mean nothing
}

/** A configuration the memory plan refuses: what it estimated, nothing run. */
export interface BenchRefusal {
  backend: string;
  depth: number;
  batch: number;
  recompute: boolean;
  fits: false;
  reason: string;
}

let peakRss = 0;
function sampleRss(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The reference setting: MNIST shape, outer 64, inner 32, learnt depth, SGD lr 0.1 momentum 0.5. */
export function referenceConfig(depth: number, seed = 0): VdsConfig {
  const c = defaultConfig();
  c.seed = seed;
  c.model = { ...c.model, kind: 'conv', method: 'learnt', maxDepth: depth, outerWidth: 64, innerWidth: 32 };
  c.prior = { kind: 'geometric', decay: 0.85 };
  c.train = { ...c.train, lr: 0.1, momentum: 0.5, weightDecay: 0, batchSize: 128 };
  return c;
}

export const REFERENCE_DATA = { inputShape: [28, 28, 1], classes: 10, nTrain: 60000 };

/** A fixed pseudo-random batch: x ~ N(0,1)-ish [B,28,28,1], y in 0..9. */
export function referenceBatch(batch: number, seed = 1): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = Rng.derive(seed, 'bench');
  const xs = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < xs.length; i++) xs[i] = rng.uniformRange(-1.7, 1.7);
  const ys = new Int32Array(batch);
  for (let i = 0; i < batch; i++) ys[i] = Math.min(9, Math.floor(rng.uniformRange(0, 10)));
  return { x: tf.tensor4d(xs, [batch, 28, 28, 1]), y: tf.tensor1d(ys, 'int32') };
}

/** One evaluation batch: marginal log predictive over all depths, read back to JS (so a GPU has finished it). */
export function evalBatch(l: Learner, x: tf.Tensor): Promise<Float32Array> {
  const lp = tf.tidy(() => {
    const { logits } = l.net.forward(x, { training: false, upTo: l.net.maxDepth, heads: 'all' });
    return marginalLogProbs(logits, l.posterior.logQ());
  });
  return takeFloats(lp);
}

/** A training split of `batch` seeded byte images (the engine keeps a split on the GPU as bytes), MNIST's normalisation. */
function batchDataset(batch: number): { ds: Dataset; rows: Uint32Array } {
  const rng = Rng.derive(1, 'bench-bytes');
  const x = Uint8Array.from({ length: batch * 28 * 28 }, () => Math.floor(rng.uniformRange(0, 256)));
  const y = Uint8Array.from({ length: batch }, () => Math.min(9, Math.floor(rng.uniformRange(0, 10))));
  const empty = { x: new Uint8Array(0), y: new Uint8Array(0), n: 0 };
  const ds: Dataset = { name: 'bench', classes: 10, inputShape: REFERENCE_DATA.inputShape, mean: [0.1307], std: [0.3081], train: { x, y, n: batch }, validation: empty, test: empty, provenance: {} };
  return { ds, rows: Uint32Array.from({ length: batch }, (_, i) => i) };
}

/** One depth on vds's WebGPU engine: the same measurements, plus dispatches and encode time per step. */
async function benchEngine(depth: number, batch: number, reps: number): Promise<BenchResult> {
  const config = referenceConfig(depth);
  const l = createLearner(config, REFERENCE_DATA.inputShape, REFERENCE_DATA.classes, REFERENCE_DATA.nTrain);
  const engine = await WebGpuEngine.start(l, REFERENCE_DATA.inputShape);
  try {
    // training as vds trains: the split on the GPU, a step gathers its rows; evaluation uploads its batch
    const { ds, rows } = batchDataset(batch);
    const step = () => engine.stepRows(l, ds, rows, 0, batch);
    const evalBatchOf = () => makeBatch(ds, ds.train, rows);
    const evalOnce = () => engine.evalLogits(l, 1, evalBatchOf, async () => new Float32Array(0), { upTo: depth, heads: 'all' });
    await step(); // warm-up: plans, pipelines, the split's upload
    await step();
    await evalOnce();
    await engine.batchStatistics(l, ds, [rows]);
    sampleRss();
    const time = async (f: () => Promise<unknown>) => {
      const out: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await f();
        out.push(performance.now() - t0);
        sampleRss();
      }
      return median(out);
    };
    const encode: number[] = [];
    const trainMs = await time(async () => {
      const before = engine.encodeMs;
      await step();
      encode.push(engine.encodeMs - before);
    });
    const evalMs = await time(evalOnce);
    const calibMs = await time(() => engine.batchStatistics(l, ds, [rows]));
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      backend: 'webgpu',
      depth,
      batch,
      train_img_s: round((batch / trainMs) * 1000),
      eval_img_s: round((batch / evalMs) * 1000),
      tensors_leaked: 0, // the engine's buffers are planned once; TF.js holds only the learner
      peak_rss_mb: Math.round(peakRss / 2 ** 20),
      train_step_ms: round(trainMs),
      eval_batch_ms: round(evalMs),
      threads: 1,
      eval_threads: 1,
      eval_img_s_1thread: round((batch / evalMs) * 1000),
      calib_img_s_1thread: round((batch / calibMs) * 1000),
      recompute: false,
      est_step_mb: 0,
      heap_mb: null,
      engine: engine.engine,
      dispatches_per_step: engine.dispatchesPerStep(l, batch),
      dispatches_per_eval_batch: engine.dispatchesPerEval(l, batch),
      encode_ms_per_step: Math.round(median(encode) * 1000) / 1000,
      null_device: engine.device.nullDevice,
    };
  } finally {
    await engine.close();
    disposeLearner(l);
  }
}

/** Kernels TF.js launches for `f` (each one GPU dispatch on webgpu-tfjs). */
async function kernelsOf(f: () => Promise<unknown>): Promise<number> {
  const p = await tf.profile(async () => {
    await f();
  });
  return p.kernels.length;
}

/** One depth: warm-up, then `reps` timed train steps and evaluations (medians). */
export async function benchDepth(
  backend: string,
  depth: number,
  batch: number,
  reps: number,
  threads = 1,
  splitEval = backend === 'wasm',
  mode: RecomputeMode = 'auto',
): Promise<BenchResult | BenchRefusal> {
  const config = referenceConfig(depth);
  const replicas = trainingReplicas(backend, config, threads, batch);
  const plan = tryPlanMemory({ model: config.model, inputShape: REFERENCE_DATA.inputShape, batchSize: batch, replicas, backend, mode });
  if (plan instanceof VdsError) return { backend, depth, batch, recompute: mode === 'on', fits: false, reason: plan.message };
  const { x, y } = referenceBatch(batch);
  const l = createLearner(config, REFERENCE_DATA.inputShape, REFERENCE_DATA.classes, REFERENCE_DATA.nTrain);
  l.recompute = plan.recompute;
  const parallel = replicas > 1 ? await DataParallelTrainer.start(l, config, REFERENCE_DATA, backend, replicas) : null;
  if (parallel) l.parallel = parallel;
  const replicaTensors = async (): Promise<number> => (parallel ? (await parallel.replicaStates()).reduce((s, r) => s + r.numTensors, 0) : 0);
  // warm-up: two steps (first step also creates the momentum buffers) and one evaluation
  await trainStep(l, x, y);
  await trainStep(l, x, y);
  await evalBatch(l, x);
  sampleRss();
  const before = tf.memory().numTensors + (await replicaTensors());
  const train: number[] = [];
  const encode: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const step = trainStep(l, x, y); // its kernels are encoded and submitted before the first await
    encode.push(performance.now() - t0);
    await step;
    train.push(performance.now() - t0);
    sampleRss();
  }
  const evals: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await evalBatch(l, x);
    evals.push(performance.now() - t0);
    sampleRss();
  }
  const evalSingleMs = median(evals);
  const calib: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await batchStatistics(l.net, 'all', depth, x);
    calib.push(performance.now() - t0);
    sampleRss();
  }
  let evalThreads = 1;
  let evalMs = evalSingleMs;
  if (splitEval && availableParallelism() >= 2) {
    const ev = await SplitEvaluator.start((l.net as ConvResNet).shape, backend);
    try {
      await ev.load(l.net, l.posterior);
      const xs = await readFloats(x);
      await ev.marginal(l.net, l.posterior, xs, x.shape); // warm-up
      const split: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        await ev.marginal(l.net, l.posterior, xs, x.shape);
        split.push(performance.now() - t0);
        sampleRss();
      }
      const ms = median(split);
      if (process.env.VDS_BENCH_DEBUG) console.error(`split eval ${split.map((v) => v.toFixed(0))} ms vs one thread ${evals.map((v) => v.toFixed(0))} ms`);
      if (ms < evalMs) {
        evalMs = ms;
        evalThreads = 2;
      }
    } finally {
      await ev.terminate();
    }
  }
  const after = tf.memory().numTensors + (await replicaTensors());
  const webgpuTfjs =
    backend === 'webgpu-tfjs'
      ? {
          engine: 'tfjs-webgpu',
          dispatches_per_step: await kernelsOf(() => trainStep(l, x, y)),
          dispatches_per_eval_batch: await kernelsOf(() => evalBatch(l, x)),
          encode_ms_per_step: Math.round(median(encode) * 1000) / 1000,
        }
      : {};
  // a worker replica starts fresh for this row (this thread's heap keeps the high-water of earlier rows)
  const heaps = (parallel ? (await parallel.replicaStates()).map((r) => r.heapBytes) : [wasmHeapBytes(tf.backend())]).filter((h): h is number => h !== null);
  await parallel?.close();
  disposeLearner(l);
  x.dispose();
  y.dispose();
  const trainMs = median(train);
  return {
    ...webgpuTfjs,
    backend,
    depth,
    batch,
    train_img_s: Math.round((batch / trainMs) * 1000 * 10) / 10,
    eval_img_s: Math.round((batch / evalMs) * 1000 * 10) / 10,
    tensors_leaked: after - before,
    peak_rss_mb: Math.round(peakRss / 2 ** 20),
    train_step_ms: Math.round(trainMs * 10) / 10,
    eval_batch_ms: Math.round(evalMs * 10) / 10,
    threads: replicas,
    eval_threads: evalThreads,
    eval_img_s_1thread: Math.round((batch / evalSingleMs) * 1000 * 10) / 10,
    calib_img_s_1thread: Math.round((batch / median(calib)) * 1000 * 10) / 10,
    recompute: plan.recompute,
    est_step_mb: Math.round((plan.recompute ? plan.recomputeBytes : plan.plainBytes) / 2 ** 20),
    heap_mb: heaps.length ? Math.round(Math.max(...heaps) / 2 ** 20) : null,
  };
}

export async function benchCommand(o: { backend?: string; threads?: number; depths: number[]; batch: number; reps: number; json: boolean; recompute?: RecomputeMode | 'both' }): Promise<void> {
  if (!o.depths.length || o.depths.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new VdsError(`depths must be non-negative integers, got ${JSON.stringify(o.depths)}`, { key: 'depths' });
  }
  if (!Number.isInteger(o.batch) || o.batch < 2) throw new VdsError(`batch must be an integer ≥ 2, got ${o.batch}`, { key: 'batch' });
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new VdsError(`reps must be an integer ≥ 1, got ${o.reps}`, { key: 'reps' });
  const threads = resolveThreads(o.threads);
  const sel = await selectBackend(o.backend ?? 'auto');
  if (process.env[DAWN_BACKEND_ENV] === 'null') {
    if (!sel.engine) throw new VdsError(`${DAWN_BACKEND_ENV}=null measures vds's WebGPU engine only`, { key: DAWN_BACKEND_ENV, hint: 'use --backend webgpu' });
    console.error(`# ${DAWN_BACKEND_ENV}=null: Dawn's null device computes nothing; images/s mean nothing, dispatches and encode ms per step are the CPU side of a step`);
  }
  if (!o.json) {
    for (const n of sel.notes) console.log(`# ${n}`);
    const replicas = trainingReplicas(sel.name, referenceConfig(0), threads, o.batch);
    const note = replicas > 1 ? `, training on ${replicas} data-parallel threads` : '';
    console.log(`# backend ${sel.name}${note}, tfjs ${tf.version_core}, batch ${o.batch}, ${o.reps} timed reps (median)`);
    console.log('depth  recompute  train img/s  step ms   eval img/s  batch ms  eval threads  calib img/s (1 thread)  tensors leaked  est. step MB  wasm heap MB  peak RSS MB');
  }
  const modes: RecomputeMode[] = o.recompute === 'both' ? ['off', 'on'] : [o.recompute ?? 'auto'];
  for (const depth of o.depths) {
    for (const mode of modes) {
      const r = sel.engine ? await benchEngine(depth, o.batch, o.reps) : await benchDepth(sel.name, depth, o.batch, o.reps, threads, sel.name === 'wasm', mode);
      if (o.json) console.log(JSON.stringify(r));
      else if ('fits' in r) console.log(`${String(depth).padStart(5)}  ${(r.recompute ? 'on' : 'off').padStart(9)}  does not fit: ${r.reason}`);
      else {
        console.log(
          `${String(depth).padStart(5)}  ${(r.recompute ? 'on' : 'off').padStart(9)}  ${r.train_img_s.toFixed(1).padStart(11)}  ${r.train_step_ms.toFixed(0).padStart(7)}  ` +
            `${r.eval_img_s.toFixed(1).padStart(11)}  ${r.eval_batch_ms.toFixed(0).padStart(8)}  ${String(r.eval_threads).padStart(12)}  ${r.calib_img_s_1thread.toFixed(1).padStart(22)}  ${String(r.tensors_leaked).padStart(14)}  ` +
            `${String(r.est_step_mb).padStart(12)}  ${String(r.heap_mb ?? '-').padStart(12)}  ${String(r.peak_rss_mb).padStart(11)}`,
        );
        if (r.engine) console.log(`       ${r.engine}: ${r.dispatches_per_step} dispatches per step, ${r.dispatches_per_eval_batch} per eval batch, ${r.encode_ms_per_step} ms to encode and submit a step${r.null_device ? " (Dawn's null device: nothing computed)" : ''}`);
      }
    }
  }
}
