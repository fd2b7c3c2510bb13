// vds's WebGPU engine (src/engine) against plain references and the reference's numbers: each kernel on
// small odd shapes against its plain reference (kernels/*.ts), then the whole network against the PyTorch
// fixtures — two SGD steps (logits, ELBO terms, every gradient, parameters and running statistics after
// both), eval-mode predictions with running and with precise per-depth statistics — and the engine's own
// promises: the same bits on every run, a resume that equals the uninterrupted run, weights that cross to
// TF.js and back. On SwiftShader here (correctness, not speed); skipped without an adapter, required in CI.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { SWIFTSHADER_ICD } from '../src/tf/webgpu.ts';
import { engineDevice } from '../src/engine/device.ts';
import { Gpu } from '../src/engine/gpu.ts';
import type { KernelDef } from '../src/engine/kernel.ts';
import { convDw, convDw4, convDw16, convDwRef, convDx, convDx16, convDxRef, convFwd, convFwd4, convFwd16, convFwdRef, dwReduce, stemDw, stemDw4, stemDwRef, stemFwd, stemFwd4, stemFwdRef, type BnAct } from '../src/engine/kernels/conv.ts';
import { bnBackwardRef, bnBwdApply, bnBwdReduce, bnStats, bnStatsRef } from '../src/engine/kernels/norm.ts';
import { linearBackwardRef, linearDw, linearDx, linearFwd, linearRef } from '../src/engine/kernels/head.ts';
import { WebGpuEngine } from '../src/engine/engine.ts';
import { Sgd } from '../src/train/sgd.ts';
import { averageStatistics } from '../src/train/calibrate.ts';
import type { Learner } from '../src/train/types.ts';
import { logPrior } from '../src/vds/prior.ts';
import { marginalLogProbs, truncatedLogQ } from '../src/vds/predict.ts';
import type { Dataset } from '../src/data/types.ts';
import { makeBatch } from '../src/data/batch.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName, type RefCase } from './helpers/reference.ts';
import { fixture as preciseFixture } from './helpers/precise-bn-checks.ts';
import { read } from './helpers/tf-async.ts';

const required = Boolean(process.env.CI) || process.env.VDS_TEST_REQUIRE_WEBGPU === '1';
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

let unavailable: string | null = null;
let gpu: Gpu | null = null;
try {
  await selectBackend('cpu'); // the learner's tensors live on TF.js; the engine computes on the GPU
  gpu = new Gpu((await engineDevice()).device);
} catch (e) {
  unavailable = e instanceof Error ? e.message : String(e);
}
const skip = unavailable && !required ? `no WebGPU adapter here (${unavailable})` : false;
function requireAdapter(): void {
  if (unavailable) assert.fail(`WebGPU is required here (CI or VDS_TEST_REQUIRE_WEBGPU=1) but unavailable: ${unavailable}`);
}

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol?: number): void {
  const miss = closeTo(actual, expected, tol);
  assert.equal(miss, null, `${what}: ${miss}`);
}

/** Deterministic values in [-1, 1) (a small LCG), so a failing shape can be rerun as it was. */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Runs one kernel over fresh buffers holding `inputs`; returns the buffers' contents afterwards. */
async function runKernel(k: KernelDef, uniforms: Record<string, number>, inputs: Float32Array[], size: { threads: number } | { groups: number }): Promise<Float32Array[]> {
  const g = gpu!;
  const bufs = inputs.map((v, i) => {
    const b = g.buffer(v.length, `${k.name}.${i}`);
    g.write(b, 0, v);
    return b;
  });
  g.run([g.dispatch(k, uniforms, bufs, size)]);
  return Promise.all(bufs.map((b, i) => g.read(b, 0, inputs[i].length)));
}

const TOL = 2e-5; // fp32 kernels against float64 references on sums of up to a few hundred terms

describe('engine kernels against their plain references (odd shapes)', { skip }, () => {
  before(requireAdapter);
  const bnFor = (C: number, seed: number): { bn: BnAct; st: Float32Array; p: Float32Array } => {
    const mean = values(C, seed).map((v) => v * 0.3);
    const variance = values(C, seed + 1).map((v) => 0.5 + Math.abs(v));
    const gamma = values(C, seed + 2).map((v) => 1 + 0.5 * v);
    const beta = values(C, seed + 3).map((v) => 0.2 * v);
    return { bn: { mean, variance, gamma, beta }, st: Float32Array.from([...mean, ...variance]), p: Float32Array.from([...gamma, ...beta]) };
  };

  // Co 5: version 1 (a thread per output channel); Co 8: version 2 (four a thread) and, with Ci 4 or 8, version 3
  // (4×4 tiles), which must give the same bits
  for (const [K, pad, act, res, Ci, Co] of [[1, 0, true, false, 3, 5], [3, 1, true, true, 3, 5], [3, 1, false, false, 3, 5], [1, 0, false, true, 3, 5], [1, 0, true, true, 4, 8], [3, 1, true, false, 8, 4]] as const) {
    it(`conv ${K}×${K} pad ${pad}${act ? ', BatchNorm+ReLU on its input' : ''}${res ? ', residual' : ''}, ${Ci} → ${Co} channels: forward, input and weight gradients`, async () => {
      const s = { B: 3, H: 5, W: 7, Ci, Co, K, pad };
      const inp = values(s.B * s.H * s.W * s.Ci, 1);
      const w = values(K * K * s.Ci * s.Co, 2);
      const b = values(s.Co, 3);
      const resid = values(s.B * s.H * s.W * s.Co, 4);
      const dout = values(s.B * s.H * s.W * s.Co, 5);
      const { bn, st, p: gb } = bnFor(s.Ci, 6);
      const p = Float32Array.from([...w, ...b, ...gb]);
      const offs = { wOff: 0, bOff: w.length, gOff: w.length + b.length, beOff: w.length + b.length + s.Ci, sOff: 0 };
      const [, , , , out] = await runKernel(convFwd, { ...s, ...offs, act: act ? 1 : 0, res: res ? 1 : 0 }, [inp, p, st, resid, new Float32Array(resid.length)], { threads: resid.length });
      expectClose('forward', out, convFwdRef(s, inp, w, b, act ? bn : null, res ? resid : null), TOL);
      if (Co % 4 === 0) {
        const [, , , , out4] = await runKernel(convFwd4, { ...s, ...offs, act: act ? 1 : 0, res: res ? 1 : 0 }, [inp, p, st, resid, new Float32Array(resid.length)], { threads: resid.length / 4 });
        assert.deepEqual(out4, out, 'version 2 of the forward gives version 1 bits');
      }
      if (Co % 4 === 0 && Ci % 4 === 0) {
        const tiles = Math.ceil((s.B * s.H * s.W) / 4) * (Co / 4); // 105 positions: the last tile is short
        const [, , , , out16] = await runKernel(convFwd16, { ...s, ...offs, act: act ? 1 : 0, res: res ? 1 : 0 }, [inp, p, st, resid, new Float32Array(resid.length)], { threads: tiles });
        assert.deepEqual(out16, out, 'version 3 of the forward gives version 1 bits');
      }
      const [, , dx] = await runKernel(convDx, { ...s, wOff: 0 }, [dout, p, new Float32Array(inp.length)], { threads: inp.length });
      expectClose('input gradient', dx, convDxRef(s, dout, w), TOL);
      if (Ci % 4 === 0) {
        const [, , dx16] = await runKernel(convDx16, { ...s, wOff: 0 }, [dout, p, new Float32Array(inp.length)], { threads: Math.ceil((s.B * s.H * s.W) / 4) * (Ci / 4) });
        assert.deepEqual(dx16, dx, 'version 3 of the input gradient gives version 1 bits');
      }
      // chunks of 7 positions: several, the last one short
      const per = (K * K * s.Ci + 1) * s.Co;
      const parts = Math.ceil((s.B * s.H * s.W) / 7);
      const [, , , , partial] = await runKernel(convDw, { ...s, ...offs, act: act ? 1 : 0, chunk: 7, parts }, [inp, dout, p, st, new Float32Array(per * parts)], { threads: per * parts });
      const [, gr] = await runKernel(dwReduce, { per, Co: s.Co, parts, wOff: 0, bOff: w.length }, [partial, new Float32Array(p.length)], { threads: per });
      if (Co % 4 === 0) {
        const [, , , , partial4] = await runKernel(convDw4, { ...s, ...offs, act: act ? 1 : 0, chunk: 7, parts }, [inp, dout, p, st, new Float32Array(per * parts)], { threads: (per * parts) / 4 });
        assert.deepEqual(partial4, partial, 'version 2 of the weight gradient gives version 1 bits');
      }
      if (Co % 4 === 0 && Ci % 4 === 0) {
        const tiles = ((K * K * s.Ci) / 4 + 1) * (s.Co / 4) * parts;
        const [, , , , partial16] = await runKernel(convDw16, { ...s, ...offs, act: act ? 1 : 0, chunk: 7, parts }, [inp, dout, p, st, new Float32Array(per * parts)], { threads: tiles });
        assert.deepEqual(partial16, partial, 'version 3 of the weight gradient gives version 1 bits');
      }
      const ref = convDwRef(s, inp, dout, act ? bn : null);
      expectClose('weight gradient', gr.subarray(0, w.length), ref.dw, TOL);
      expectClose('bias gradient', gr.subarray(w.length, w.length + b.length), ref.db, TOL);
    });
  }

  it('input block (5×5 conv + 2×2 average pool, odd sizes) and its weight gradient', async () => {
    const s = { B: 2, Hin: 10, Win: 11, Ci: 3, Co: 4, K: 5 };
    const Hp = Math.floor((s.Hin - 4) / 2);
    const Wp = Math.floor((s.Win - 4) / 2);
    const x = values(s.B * s.Hin * s.Win * s.Ci, 7);
    const w = values(25 * s.Ci * s.Co, 8);
    const b = values(s.Co, 9);
    const p = Float32Array.from([...w, ...b]);
    const n = s.B * Hp * Wp * s.Co;
    const u = { B: s.B, Hin: s.Hin, Win: s.Win, Ci: s.Ci, Hp, Wp, Co: s.Co, K: 5, wOff: 0, bOff: w.length };
    const [, , out] = await runKernel(stemFwd, u, [x, p, new Float32Array(n)], { threads: n });
    expectClose('forward', out, stemFwdRef(s, x, w, b), TOL);
    const [, , out4] = await runKernel(stemFwd4, u, [x, p, new Float32Array(n)], { threads: n / 4 });
    assert.deepEqual(out4, out, 'version 2 gives version 1 bits');
    const dout = values(n, 10);
    const per = (25 * s.Ci + 1) * s.Co;
    const parts = Math.ceil((s.B * Hp * Wp) / 5);
    const [, , partial] = await runKernel(stemDw, { ...u, chunk: 5, parts }, [x, dout, new Float32Array(per * parts)], { threads: per * parts });
    const [, , partial4] = await runKernel(stemDw4, { ...u, chunk: 5, parts }, [x, dout, new Float32Array(per * parts)], { threads: (per * parts) / 4 });
    assert.deepEqual(partial4, partial, 'version 2 of the weight gradient gives version 1 bits');
    const [, gr] = await runKernel(dwReduce, { per, Co: s.Co, parts, wOff: 0, bOff: w.length }, [partial, new Float32Array(p.length)], { threads: per });
    const ref = stemDwRef(s, x, dout);
    expectClose('weight gradient', gr.subarray(0, w.length), ref.dw, TOL);
    expectClose('bias gradient', gr.subarray(w.length), ref.db, TOL);
  });

  for (const [G, N, C, pre, post] of [[1, 301, 3, false, true], [3, 5, 7, true, false], [2, 257, 1, false, false]] as const) {
    it(`BatchNorm statistics and backward, ${G} group(s) of ${N} rows × ${C} channels${pre ? ', ReLU before' : ''}${post ? ', ReLU after' : ''}`, async () => {
      const x = values(G * N * C, 11 + N);
      const dout = values(G * N * C, 12 + N);
      const gamma = values(C, 13).map((v) => 1 + 0.5 * v);
      const beta = values(C, 14).map((v) => 0.3 * v);
      const [, st] = await runKernel(bnStats, { G, N, C, oOff: 0, pre: pre ? 1 : 0 }, [x, new Float32Array(G * 2 * C)], { groups: G * C });
      expectClose('statistics', st, bnStatsRef(x, G, N, C, pre), TOL);
      const p = Float32Array.from([...gamma, ...beta]);
      const flags = { G, N, C, sOff: 0, gOff: 0, beOff: C, pre: pre ? 1 : 0, post: post ? 1 : 0 };
      const [, , , , sums, gr] = await runKernel(bnBwdReduce, { ...flags, dgOff: 0, dbOff: C }, [x, dout, p, st, new Float32Array(G * 2 * C), new Float32Array(2 * C)], { groups: C });
      const ref = bnBackwardRef(x, dout, G, N, C, gamma, beta, pre, post);
      expectClose('γ gradient', gr.subarray(0, C), ref.dgamma, 1e-4);
      expectClose('β gradient', gr.subarray(C), ref.dbeta, 1e-4);
      const [, , , , , , , dx] = await runKernel(bnBwdApply, { ...flags, base: 0, head: 0, hOff: 0, HW: 1 }, [x, dout, p, st, sums, x, x, new Float32Array(x.length)], { threads: x.length });
      expectClose('input gradient', dx, ref.dx, 1e-4);
    });
  }

  it('linear layer: forward, input, weight and bias gradients (M 13, K 6, N 5)', async () => {
    const [M, K, N] = [13, 6, 5];
    const x = values(M * K, 21);
    const w = values(K * N, 22);
    const b = values(N, 23);
    const dout = values(M * N, 24);
    const p = Float32Array.from([...w, ...b]);
    const [, , out] = await runKernel(linearFwd, { M, K, N, wOff: 0, bOff: w.length }, [x, p, new Float32Array(M * N)], { threads: M * N });
    expectClose('forward', out, linearRef(x, M, K, N, w, b), TOL);
    const ref = linearBackwardRef(x, dout, M, K, N, w);
    const [, , , dx] = await runKernel(linearDx, { M, K, N, wOff: 0, base: 0 }, [dout, p, x, new Float32Array(M * K)], { threads: M * K });
    expectClose('input gradient', dx, ref.dx, TOL);
    const parts = Math.ceil(M / 4); // chunks of 4 rows, the last one short
    const [, , partial] = await runKernel(linearDw, { M, K, N, chunk: 4, parts }, [x, dout, new Float32Array((K + 1) * N * parts)], { threads: (K + 1) * N * parts });
    const [, gr] = await runKernel(dwReduce, { per: (K + 1) * N, Co: N, parts, wOff: 0, bOff: w.length }, [partial, new Float32Array(p.length)], { threads: (K + 1) * N });
    expectClose('weight gradient', gr.subarray(0, w.length), ref.dw, TOL);
    expectClose('bias gradient', gr.subarray(w.length), ref.db, TOL);
  });
});

const convCase = (): RefCase => loadReferenceCases().find((c) => c.architecture.kind === 'conv')!;

function referenceLearner(c: RefCase): Learner {
  const { net, posterior } = buildReferenceModel(c);
  const prior = logPrior({ kind: 'geometric', decay: 0.85 }, net.maxDepth);
  return { net, posterior, opt: new Sgd(c.lr, c.momentum, 0), logPrior: tf.tensor1d(Array.from(prior), 'float32'), nTrain: c.n_train };
}

function dispose(l: Learner): void {
  l.net.store.dispose();
  l.posterior.dispose();
  l.opt.dispose();
  l.logPrior.dispose();
}

async function nhwc(t: { shape: number[]; data: number[] }): Promise<Float32Array> {
  const x = imagesToTf(t);
  const v = await read(x);
  x.dispose();
  return v;
}

/** A dataset whose training split is the given float images (for the calibration batches of the fixture). */
function floatDataset(batches: Float32Array[], inputShape: number[]): { ds: Dataset; plan: Uint32Array[] } {
  const per = inputShape.reduce((a, b) => a * b, 1);
  const n = batches.reduce((a, b) => a + b.length / per, 0);
  const x = new Float32Array(n * per);
  let at = 0;
  const plan = batches.map((b) => {
    x.set(b, at * per);
    const rows = Uint32Array.from({ length: b.length / per }, (_, i) => at + i);
    at += b.length / per;
    return rows;
  });
  const split = { x, y: new Uint8Array(n), n };
  const empty = { x: new Float32Array(0), y: new Uint8Array(0), n: 0 };
  return { ds: { name: 'fixture', classes: 10, inputShape, mean: [], std: [], train: split, validation: empty, test: empty, provenance: {} }, plan };
}

describe('engine: reference parity (the PyTorch fixtures to 1e-4)', { skip }, () => {
  before(requireAdapter);

  it(`two SGD steps of ${convCase().name}: logits, ELBO terms, gradients, parameters, running statistics, eval predictions`, async () => {
    const c = convCase();
    const l = referenceLearner(c);
    const D = l.net.maxDepth;
    const xs = await nhwc(c.x);
    const inputShape = [c.x.shape[2], c.x.shape[3], c.x.shape[1]];
    const engine = await WebGpuEngine.start(l, inputShape);
    try {
      for (const [s, ref] of c.steps.entries()) {
        const stats = await engine.stepBatch(l, xs, c.y);
        expectClose(`step ${s + 1} logits`, await engine.readArena('logits', ref.logits_per_depth.data.length), ref.logits_per_depth.data);
        expectClose(`step ${s + 1} loss, expected NLL, KL`, [stats.loss, stats.expectedNll, stats.kl], [ref.loss, ref.expected_nll, ref.kl]);
        if (!ref.grads) continue;
        const grads = await engine.gradients();
        for (const [key, g] of Object.entries(ref.grads)) {
          const name = vdsName(key, 'conv');
          const expected = toTf(g);
          expectClose(`step ${s + 1} grad ${key}`, grads.get(name)!, await read(expected));
          expected.dispose();
        }
        assert.equal(grads.size, Object.keys(ref.grads).length, 'a gradient for every parameter and α');
      }
      // the state after both steps, handed back to the learner as a checkpoint would take it
      await engine.pull(l);
      for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
        const name = vdsName(key, 'conv');
        const expected = toTf(value);
        expectClose(`after two steps ${key}`, await read(name === 'q.alpha' ? l.posterior.alpha! : l.net.store.get(name)), await read(expected));
        expected.dispose();
      }
      // eval mode with the running statistics: every depth, the marginal and the network cut at each depth
      const ev = c.eval_after_two_steps;
      const B = c.y.length;
      const batch = () => ({ x: xs, y: Int32Array.from(c.y), shape: [B, ...inputShape] });
      const [all] = await engine.evalLogits(l, 1, batch, async () => new Float32Array(0), { upTo: D, heads: 'all' });
      expectClose('eval logits', all, ev.logits_per_depth.data);
      const logQ = l.posterior.logQ();
      for (const [d, probs] of Object.entries(ev.truncated_probs_by_depth)) {
        const [cut] = await engine.evalLogits(l, 1, batch, async () => new Float32Array(0), { upTo: Number(d), heads: 'all' });
        const lp = tf.tidy(() => tf.exp(marginalLogProbs(tf.tensor3d(cut, [Number(d) + 1, B, 10]), truncatedLogQ(logQ, Number(d)))));
        expectClose(`truncated at ${d}`, await read(lp), probs.data);
        lp.dispose();
      }
      logQ.dispose();
    } finally {
      await engine.close();
      dispose(l);
    }
  });

  it(`precise per-depth statistics of ${preciseFixture.case} and the eval logits they give`, async () => {
    const c = convCase();
    const l = referenceLearner(c);
    for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
      const name = vdsName(key, 'conv');
      tf.tidy(() => (name === 'q.alpha' ? l.posterior.alpha! : l.net.store.get(name)).assign(toTf(value)));
    }
    const inputShape = [c.x.shape[2], c.x.shape[3], c.x.shape[1]];
    const engine = await WebGpuEngine.start(l, inputShape);
    try {
      const { ds, plan } = floatDataset(await Promise.all(preciseFixture.calibration_batches.map(nhwc)), inputShape);
      const stats = averageStatistics(await engine.batchStatistics(l, ds, plan));
      for (const [prefix, s] of Object.entries(preciseFixture.block_stats)) {
        const got = stats.get(prefix, undefined);
        expectClose(`${prefix} mean`, await read(got.mean), s.mean.data);
        expectClose(`${prefix} var`, await read(got.variance), s.var.data);
      }
      for (const [d, s] of preciseFixture.head_stats_by_depth.entries()) {
        const got = stats.get('head.bn', d);
        expectClose(`head.bn at depth ${d} mean`, await read(got.mean), s.mean.data);
        expectClose(`head.bn at depth ${d} var`, await read(got.variance), s.var.data);
      }
      const xs = await nhwc(c.x);
      const B = c.y.length;
      const [logits] = await engine.evalLogits(l, 1, () => ({ x: xs, y: Int32Array.from(c.y), shape: [B, ...inputShape] }), async () => new Float32Array(0), { upTo: l.net.maxDepth, heads: 'all', stats });
      expectClose('eval logits with precise statistics', logits, preciseFixture.eval_on_x.logits_per_depth.data);
      stats.dispose();
    } finally {
      await engine.close();
      dispose(l);
    }
  });
});

describe('engine: the same bits every time', { skip }, () => {
  before(requireAdapter);

  /** Six steps on the fixture's batch; `resumeAt`: hand the state to TF.js there and continue on a fresh engine. */
  async function train(resumeAt: number | null): Promise<Map<string, Float32Array>> {
    const c = convCase();
    const l = referenceLearner(c);
    const xs = await nhwc(c.x);
    const inputShape = [c.x.shape[2], c.x.shape[3], c.x.shape[1]];
    let engine = await WebGpuEngine.start(l, inputShape);
    try {
      for (let s = 0; s < 6; s++) {
        if (s === resumeAt) {
          await engine.pull(l);
          await engine.close();
          engine = await WebGpuEngine.start(l, inputShape);
        }
        l.opt.lr = s < 3 ? 0.1 : 0.05;
        await engine.stepBatch(l, xs, c.y);
      }
      const t = await engine.tensors();
      return new Map([...t].map(([k, v]) => [k, v.values]));
    } finally {
      await engine.close();
      dispose(l);
    }
  }

  it('a batch gathered on the GPU from the training bytes equals the batch built on the CPU, bit for bit', async () => {
    const c = convCase();
    const inputShape = [12, 12, 1];
    const n = 20;
    const bytes = Uint8Array.from({ length: n * 144 }, (_, i) => (i * 37 + (i >> 5)) % 256);
    const split = { x: bytes, y: Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10), n };
    const empty = { x: new Uint8Array(0), y: new Uint8Array(0), n: 0 };
    const ds: Dataset = { name: 'bytes', classes: 10, inputShape, mean: [0.1307], std: [0.3081], train: split, validation: empty, test: empty, provenance: {} };
    const order = Uint32Array.from([7, 3, 19, 0, 11, 5, 2, 16, 9, 13, 1, 18]);
    const states: Map<string, Float32Array>[] = [];
    for (const onGpu of [true, false]) {
      const l = referenceLearner(c);
      const engine = await WebGpuEngine.start(l, inputShape);
      try {
        for (const [s, e] of [[0, 6], [6, 12]]) {
          if (onGpu) await engine.stepRows(l, ds, order, s, e);
          else {
            const b = makeBatch(ds, ds.train, order.subarray(s, e));
            await engine.stepBatch(l, b.x, b.y);
          }
        }
        states.push(new Map([...(await engine.tensors())].map(([k, v]) => [k, v.values])));
      } finally {
        await engine.close();
        dispose(l);
      }
    }
    for (const [k, v] of states[1]) assert.deepEqual(states[0].get(k), v, k);
  });

  it('two runs are bit-identical, and one handed to TF.js and back mid-run equals them', async () => {
    const a = await train(null);
    const b = await train(null);
    const r = await train(3);
    assert.ok(a.has('momentum:stem.w'), 'momentum is part of the state');
    for (const [k, v] of a) {
      assert.deepEqual(b.get(k), v, `${k}: run 2`);
      assert.deepEqual(r.get(k), v, `${k}: resumed`);
    }
  });
});
