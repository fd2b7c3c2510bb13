// vds's own WebGPU engine for the conv VDS ResNet, plugged in where the data-parallel trainer plugs in
// (ParallelTrainer): it takes the training steps, the calibration batches' statistics and the evaluation
// logits, and exchanges weights with the learner as plain tensor maps — the loop, the runs and the
// checkpoints stay as they are. Parameters, gradients and momentum live in flat GPU buffers; each pass is
// planned once per shape (plan.ts) and replayed with one submit.
import type { Learner, ParallelTrainer, StepStats, BatchStatistics, EvalPass } from '../train/types.ts';
import { headsOf } from '../train/types.ts';
import { assignLearnerTensors, learnerTensors, type TensorMap } from '../train/learner.ts';
import type { Dataset } from '../data/types.ts';
import { makeBatch, normalisationTable, type Batch } from '../data/batch.ts';
import type { ConvResNet } from '../model/resnet.ts';
import type { PreciseStats } from '../model/norm-stats.ts';
import { readFloats, type tf } from '../tf/tf.ts';
import { engineDevice, type EngineDevice } from './device.ts';
import { Gpu } from './gpu.ts';
import { FlatLayout, StatsLayout } from './layout.ts';
import { Arena, buildPass, pooledSize, type Pass, type PassKind, type PlanContext } from './plan.ts';
import { MAX_HEADS, sgd } from './kernels/loss.ts';
import { MAX_ACT_CHANNELS } from './kernels/conv.ts';
import { gather, packBytes } from './kernels/data.ts';
import type { Dispatch } from './gpu.ts';

export { ENGINE_NAME } from './name.ts';
import { ENGINE_NAME } from './name.ts';
import { VdsError } from '../util/errors.ts';

/** Why the engine cannot train a network, or null when it can. */
export function engineUnsupported(l: Learner, inputShape: number[]): string | null {
  if (l.net.kind !== 'conv') return 'the engine covers the conv VDS ResNet; the fully connected (spirals) network trains on TF.js';
  if (inputShape.length !== 3 || inputShape[0] < 6 || inputShape[1] < 6) return `input shape [${inputShape}] is not an image the input block can take`;
  if (l.net.maxDepth + 1 > MAX_HEADS) return `the engine computes at most ${MAX_HEADS} heads (max depth ${MAX_HEADS - 1})`;
  const { outerWidth, innerWidth } = (l.net as ConvResNet).shape;
  if (Math.max(outerWidth, innerWidth) > MAX_ACT_CHANNELS) return `the engine takes widths up to ${MAX_ACT_CHANNELS}`;
  return null;
}

export class WebGpuEngine implements ParallelTrainer {
  readonly size = 1;
  readonly engine = ENGINE_NAME;
  private readonly passes = new Map<string, Pass>();
  private readonly preciseCache = new WeakMap<PreciseStats, { key: string; values: Float32Array }>(); // the statistics buffer they fill
  private lr = new Map<Pass, number>();
  private momentumLive = false; // momentum buffers hold state (a step ran, or a learner's momentum was loaded)
  encodeMs = 0; // CPU time spent encoding and submitting training steps

  private constructor(
    readonly gpu: Gpu,
    readonly device: EngineDevice,
    private readonly ctx: PlanContext,
  ) {}

  /** An engine for `l`'s network and data of `inputShape`, loaded with l's tensors. */
  static async start(l: Learner, inputShape: number[]): Promise<WebGpuEngine> {
    const why = engineUnsupported(l, inputShape);
    if (why) throw new Error(why);
    const device = await engineDevice();
    const gpu = new Gpu(device.device);
    const net = (l.net as ConvResNet).shape;
    const P = new FlatLayout();
    for (const [name, v] of l.net.store.params) P.add(name, v.shape);
    if (l.posterior.alpha) P.add('q.alpha', l.posterior.alpha.shape);
    const R = new FlatLayout();
    for (const [name, v] of l.net.store.buffers) R.add(name, v.shape);
    const ctx: PlanContext = {
      gpu,
      net,
      input: inputShape as [number, number, number],
      learnt: l.posterior.learnt,
      nTrain: l.nTrain,
      P,
      R,
      params: gpu.buffer(P.size, 'params'),
      grads: gpu.buffer(P.size, 'grads'),
      momentum: gpu.buffer(P.size, 'momentum'),
      running: gpu.buffer(R.size, 'running'),
      stats: gpu.buffer(new StatsLayout(net, net.maxDepth + 1).size, 'stats'),
      prior: gpu.buffer(l.net.maxDepth + 1, 'log-prior'),
      arena: new Arena(gpu),
    };
    const engine = new WebGpuEngine(gpu, device, ctx);
    await engine.sync(l);
    return engine;
  }

  private pass(kind: PassKind, B: number, upTo: number, heads: 'all' | 'last'): Pass {
    const key = `${kind}:${B}:${upTo}:${heads}`;
    let p = this.passes.get(key);
    if (!p) {
      // a buffer the device cannot hold, or a plan it refuses, is an error scope's finding, not a silent zero
      const device = this.device.device;
      device.pushErrorScope('out-of-memory');
      device.pushErrorScope('validation');
      this.passes.set(key, (p = buildPass(this.ctx, kind, B, upTo, heads)));
      const what = `the engine's ${kind} pass (batch ${B}, depth ${upTo})`;
      const asked = this.gpu.bytes; // every buffer of every plan so far (passes share the largest activations)
      const found = Promise.all([device.popErrorScope(), device.popErrorScope()]).then(([invalid, oom]) => {
        if (oom) {
          throw new VdsError(`${what} does not fit the GPU's memory: ${oom.message.split('\n')[0]} (the engine asked for ${(asked / 2 ** 30).toFixed(2)} GiB in all)`, {
            hint: 'a smaller train.batchSize (or train.evalBatchSize) fits',
            exitCode: 1,
          });
        }
        if (invalid) throw new Error(`${what} was refused by the device: ${invalid.message.split('\n')[0]}`);
      });
      found.catch(() => undefined); // reported by checked(), before the pass runs
      this.planned.push(found);
    }
    return p;
  }

  private planned: Promise<void>[] = [];

  /** Throws what planning found wrong (out of memory, an invalid plan) before a pass runs. */
  private async checked(): Promise<void> {
    if (!this.planned.length) return;
    const all = this.planned.splice(0);
    await Promise.all(all);
  }

  /** Dispatches of one training step at batch size B (planning it if needed), the gather of its batch included. */
  dispatchesPerStep(l: Learner, B: number): number {
    return this.pass('train', B, l.net.maxDepth, headsOf(l.posterior)).dispatches + 1;
  }

  dispatchesPerEval(l: Learner, B: number): number {
    return this.pass('eval', B, l.net.maxDepth, headsOf(l.posterior)).dispatches;
  }

  /** Copies l's weights, BatchNorm buffers, α, momentum and log prior to the GPU. */
  async sync(l: Learner): Promise<void> {
    const t = await learnerTensors(l);
    const { P, R, gpu } = this.ctx;
    const params = new Float32Array(P.size);
    const momentum = new Float32Array(P.size);
    let anyMomentum = false;
    for (const [name, slot] of P.slots) {
      const key = name === 'q.alpha' ? 'alpha' : `param:${name}`;
      params.set(t.get(key)!.values, slot.offset);
      const m = t.get(`momentum:${name}`);
      if (m) {
        momentum.set(m.values, slot.offset);
        anyMomentum = true;
      }
    }
    const running = new Float32Array(R.size);
    for (const [name, slot] of R.slots) running.set(t.get(`buffer:${name}`)!.values, slot.offset);
    gpu.write(this.ctx.params, 0, params);
    gpu.write(this.ctx.momentum, 0, momentum);
    gpu.write(this.ctx.running, 0, running);
    gpu.write(this.ctx.prior, 0, new Float32Array(await readFloats(l.logPrior)));
    this.momentumLive = anyMomentum;
  }

  /** The GPU's weights, BatchNorm buffers, α and momentum as the learner names them. */
  async tensors(withOptimizer = true): Promise<TensorMap> {
    const { P, R, gpu } = this.ctx;
    const [params, running, momentum] = await Promise.all([
      gpu.read(this.ctx.params, 0, P.size),
      gpu.read(this.ctx.running, 0, R.size),
      withOptimizer && this.momentumLive ? gpu.read(this.ctx.momentum, 0, P.size) : Promise.resolve(null),
    ]);
    const out: TensorMap = new Map();
    for (const [name, s] of P.slots) {
      out.set(name === 'q.alpha' ? 'alpha' : `param:${name}`, { shape: s.shape, values: params.slice(s.offset, s.offset + s.size) });
    }
    for (const [name, s] of R.slots) out.set(`buffer:${name}`, { shape: s.shape, values: running.slice(s.offset, s.offset + s.size) });
    if (momentum) for (const [name, s] of P.slots) out.set(`momentum:${name}`, { shape: s.shape, values: momentum.slice(s.offset, s.offset + s.size) });
    return out;
  }

  /** Hands the GPU's state back to the learner (before a checkpoint, a weight check or an evaluation on TF.js). */
  async pull(l: Learner): Promise<void> {
    const t = await this.tensors();
    assignLearnerTensors(l, t, 'the WebGPU engine', this.momentumLive);
  }

  async step(l: Learner, x: tf.Tensor, y: tf.Tensor1D): Promise<StepStats> {
    const [xs, ys] = await Promise.all([x.data(), y.data()]);
    return this.stepBatch(l, xs as Float32Array, ys as Int32Array);
  }

  // the training split on the GPU (bytes, normalisation table, labels) and the epoch's row order
  private split: { ds: Dataset; bytes: GPUBuffer; table: GPUBuffer; ys: GPUBuffer } | null = null;
  private order: { rows: Uint32Array; buffer: GPUBuffer } | null = null;
  private gathers = new Map<string, Dispatch>();

  /** A step on rows order[start..end) of the training split, which lives on the GPU (uploaded once). */
  async stepRows(l: Learner, ds: Dataset, order: Uint32Array, start: number, end: number): Promise<StepStats> {
    if (!(ds.train.x instanceof Uint8Array)) {
      const b = makeBatch(ds, ds.train, order.subarray(start, end));
      return this.stepBatch(l, b.x, b.y);
    }
    const { gpu } = this;
    if (this.split?.ds !== ds) {
      const bytes = gpu.buffer(Math.ceil(ds.train.x.length / 4), 'train-bytes');
      gpu.write(bytes, 0, packBytes(ds.train.x));
      const table = gpu.buffer(256 * ds.inputShape[2], 'normalisation');
      gpu.write(table, 0, normalisationTable(ds));
      const ys = gpu.buffer(ds.train.n, 'train-labels');
      gpu.write(ys, 0, Float32Array.from(ds.train.y));
      this.split = { ds, bytes, table, ys };
      this.gathers.clear();
    }
    if (this.order?.rows !== order) {
      // once an epoch: the shuffled row indices (a buffer is kept while the split's size stays)
      if (!this.order || this.order.rows.length !== order.length) {
        this.order = { rows: order, buffer: gpu.buffer(order.length, 'epoch-order') };
        this.gathers.clear();
      }
      this.order.rows = order;
      gpu.write(this.order.buffer, 0, Float32Array.from(order));
    }
    const B = end - start;
    const pass = this.pass('train', B, l.net.maxDepth, headsOf(l.posterior));
    const per = ds.inputShape.reduce((a, b) => a * b, 1);
    const values = { B, per, C: ds.inputShape[2], start };
    let g = this.gathers.get(`${B}`);
    if (!g) this.gathers.set(`${B}`, (g = gpu.dispatch(gather, values, [this.split.bytes, this.split.table, this.split.ys, this.order.buffer, pass.x, pass.labels!], { threads: B * per })));
    const first = g;
    return this.replay(l, pass, [g], () => gpu.rewrite(first, gather, values));
  }

  async stepBatch(l: Learner, xs: Float32Array, ys: ArrayLike<number>): Promise<StepStats> {
    const B = ys.length;
    const pass = this.pass('train', B, l.net.maxDepth, headsOf(l.posterior));
    return this.replay(l, pass, [], () => {
      this.gpu.write(pass.x, 0, xs);
      this.gpu.write(pass.labels!, 0, Float32Array.from(ys));
    });
  }

  /**
   * Runs a planned training step and reads its numbers. `load` writes the step's inputs (its batch, or the
   * gather's offset) right before the submit, so with steps in flight every write lands between its own
   * step and the one before, in queue order.
   */
  private async replay(l: Learner, pass: Pass, before: Dispatch[], load: () => void): Promise<StepStats> {
    await this.checked();
    const t0 = performance.now();
    load();
    if (this.lr.get(pass) !== l.opt.lr) {
      this.gpu.rewrite(pass.sgd!, sgd, { P: this.ctx.P.size, f_lr: l.opt.lr, f_momentum: l.opt.momentum, f_wd: l.opt.weightDecay });
      this.lr.set(pass, l.opt.lr);
    }
    this.gpu.run(before.length ? [...before, ...pass.steps] : pass.steps);
    this.momentumLive ||= l.opt.momentum !== 0;
    this.encodeMs += performance.now() - t0;
    const [loss, expectedNll, kl, correct] = await this.gpu.read(pass.record!, 0, 4);
    return { loss, expectedNll, kl, correct };
  }

  /** Writes the statistics an eval pass normalises with: the running ones, or precise ones. */
  private async fillStats(l: Learner, o: EvalPass): Promise<void> {
    const S = new StatsLayout(this.ctx.net, o.heads === 'all' ? l.net.maxDepth + 1 : 1);
    const heads = o.heads === 'all' ? Array.from({ length: o.upTo + 1 }, (_, d) => d) : [o.upTo];
    if (!o.stats) {
      const { R } = this.ctx;
      const copies = [];
      for (let k = 0; k < o.upTo; k++) {
        for (let j = 0; j < 3; j++) copies.push({ from: this.ctx.running, fromOffset: R.at(`blocks.${k}.bn${j + 1}.runningMean`), to: this.ctx.stats, toOffset: S.block(k, j), floats: 2 * S.channels(j) });
      }
      heads.forEach((_, h) => copies.push({ from: this.ctx.running, fromOffset: R.at('head.bn.runningMean'), to: this.ctx.stats, toOffset: S.headAt(h), floats: 2 * this.ctx.net.outerWidth }));
      this.gpu.run(copies);
      return;
    }
    const key = `${o.heads}:${o.upTo}`;
    let cached = this.preciseCache.get(o.stats);
    if (cached?.key !== key) {
      const values = new Float32Array(S.size);
      const t = await o.stats.toTensorMap();
      const put = (entry: string, offset: number) => {
        const mean = t.get(`precise:${entry}.mean`)!.values;
        values.set(mean, offset);
        values.set(t.get(`precise:${entry}.var`)!.values, offset + mean.length);
      };
      for (let k = 0; k < o.upTo; k++) for (let j = 0; j < 3; j++) put(`blocks.${k}.bn${j + 1}`, S.block(k, j));
      heads.forEach((d, h) => put(`head.bn@${d}`, S.headAt(h)));
      this.preciseCache.set(o.stats, (cached = { key, values }));
    }
    this.gpu.write(this.ctx.stats, 0, cached.values);
  }

  async evalLogits(l: Learner, count: number, batch: (k: number) => Batch, _here: (k: number) => Promise<Float32Array>, o: EvalPass): Promise<Float32Array[]> {
    await this.fillStats(l, o);
    const reads: Promise<Float32Array>[] = [];
    for (let k = 0; k < count; k++) {
      const b = batch(k);
      const B = b.shape[0];
      const pass = this.pass('eval', B, o.upTo, o.heads);
      await this.checked();
      this.gpu.write(pass.x, 0, b.x);
      this.gpu.run(pass.steps);
      reads.push(this.gpu.read(pass.logits, 0, pass.H * B * this.ctx.net.classes)); // in flight while the next batch runs
    }
    return Promise.all(reads);
  }

  async batchStatistics(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<BatchStatistics[]> {
    const heads = headsOf(l.posterior);
    const D = l.net.maxDepth;
    for (const rows of new Set(plan.map((r) => r.length))) this.pass('calibrate', rows, D, heads);
    await this.checked();
    const reads = plan.map((rows) => {
      const b = makeBatch(ds, ds.train, rows);
      const pass = this.pass('calibrate', rows.length, D, heads);
      this.gpu.write(pass.x, 0, b.x);
      this.gpu.run(pass.steps);
      return this.gpu.read(this.ctx.stats, 0, pass.S.size).then((s) => this.statisticsOf(pass, s));
    });
    return Promise.all(reads);
  }

  /** A calibration pass's statistics as TF.js's forward records them: in pass order, variances unbiased. */
  private statisticsOf(pass: Pass, s: Float32Array): BatchStatistics {
    const { S, B } = pass;
    const [Hp, Wp] = pooledSize(this.ctx.input);
    const out: BatchStatistics = [];
    const entry = (key: string, offset: number, C: number, count: number) => {
      const unbiased = count / Math.max(1, count - 1);
      out.push({ key, mean: s.slice(offset, offset + C), variance: Float32Array.from(s.subarray(offset + C, offset + 2 * C), (v) => v * unbiased) });
    };
    const O = this.ctx.net.outerWidth;
    if (pass.heads === 'all') entry('head.bn@0', S.headAt(0), O, B);
    for (let k = 0; k < pass.upTo; k++) {
      for (let j = 0; j < 3; j++) entry(`blocks.${k}.bn${j + 1}`, S.block(k, j), S.channels(j), B * Hp * Wp);
      if (pass.heads === 'all') entry(`head.bn@${k + 1}`, S.headAt(k + 1), O, B);
    }
    if (pass.heads === 'last') entry(`head.bn@${pass.upTo}`, S.headAt(0), O, B);
    return out;
  }

  /** For tests: any buffer of the last pass (e.g. 'logits'), read back. */
  async readArena(name: string, floats: number): Promise<Float32Array> {
    return this.gpu.read(this.ctx.arena.get(name, floats), 0, floats);
  }

  async gradients(): Promise<Map<string, Float32Array>> {
    const g = await this.gpu.read(this.ctx.grads, 0, this.ctx.P.size);
    return new Map([...this.ctx.P.slots].map(([name, s]) => [name, g.slice(s.offset, s.offset + s.size)]));
  }

  async close(): Promise<void> {
    await this.gpu.done();
    this.gpu.destroy();
    this.passes.clear();
  }
}
