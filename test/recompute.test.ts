// Activation checkpointing (src/tf/recompute.ts, train/memory.ts): recomputing residual blocks in the
// backward pass gives bit-identical gradients and training on one thread and on two data-parallel replicas,
// needs several times less memory, and the memory plan recomputes only when a step would not fit, refusing
// before anything is written when even that does not fit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { defaultConfig } from '../src/config/defaults.ts';
import type { VdsConfig } from '../src/config/types.ts';
import { createLearner, disposeLearner, learnerTensors } from '../src/train/learner.ts';
import { disposeKept, lossAndGrads, trainStep, type Learner } from '../src/train/step.ts';
import { DataParallelTrainer } from '../src/train/data-parallel.ts';
import { estimateStepMemory, planMemory, replicasToFit, resolveRecompute, tryPlanMemory } from '../src/train/memory.ts';
import { Rng } from '../src/util/rng.ts';
import { vds, REPO } from './helpers/cli.ts';
import { tinyConfig } from './helpers/tiny-run.ts';
import { configToYaml } from '../src/config/index.ts';

function convConfig(D: number): VdsConfig {
  const c = defaultConfig();
  c.model = { ...c.model, kind: 'conv', method: 'learnt', maxDepth: D, outerWidth: 16, innerWidth: 8 };
  c.train = { ...c.train, lr: 0.1, momentum: 0.5, weightDecay: 0 };
  return c;
}

function batch(B: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const rng = Rng.derive(seed, 'recompute-test');
  const xs = Float32Array.from({ length: B * 28 * 28 }, () => rng.uniformRange(-1.5, 1.5));
  const ys = Int32Array.from({ length: B }, () => Math.min(9, Math.floor(rng.uniformRange(0, 10))));
  return { x: tf.tensor4d(xs, [B, 28, 28, 1]), y: tf.tensor1d(ys, 'int32') };
}

/** Gradients (by name), the loss and the step's peak tensor memory, with or without recomputation. */
async function gradientsOf(l: Learner, x: tf.Tensor, y: tf.Tensor1D, recompute: boolean) {
  l.recompute = recompute;
  const out = new Map<string, Float32Array>();
  const profile = await tf.profile(() => {
    const r = lossAndGrads(l, x, y);
    for (const [name, g] of r.grads) out.set(name, g.dataSync() as Float32Array);
    out.set('loss', r.value.dataSync() as Float32Array);
    r.batchStats.forEach((s, i) => out.set(`stats ${i} ${s.prefix}`, s.stats.variance.dataSync() as Float32Array));
    tf.dispose([...r.grads.values(), r.value]);
    disposeKept(r.batchStats, r.extras);
  });
  return { values: out, peakBytes: profile.peakBytes };
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`recomputed residual blocks on ${backend}`, () => {
    before(async () => {
      await selectBackend(backend);
    });
    after(() => tf.disposeVariables());

    it('give bit-identical gradients and batch statistics with less than half the memory, leaking nothing', async () => {
      const l = createLearner(convConfig(6), [28, 28, 1], 10, 1000);
      const { x, y } = batch(16, 1);
      try {
        const tensorsBefore = tf.memory().numTensors;
        const plain = await gradientsOf(l, x, y, false);
        const recomputed = await gradientsOf(l, x, y, true);
        assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked');
        assert.deepEqual([...recomputed.values.keys()], [...plain.values.keys()]);
        for (const [name, v] of plain.values) assert.deepEqual(recomputed.values.get(name), v, name);
        assert.ok(plain.values.size > 6 * 10, 'every block has gradients');
        assert.ok(recomputed.peakBytes * 2 < plain.peakBytes, `peak ${recomputed.peakBytes} vs ${plain.peakBytes} bytes`);
      } finally {
        tf.dispose([x, y]);
        disposeLearner(l);
      }
    });
  });
}

describe('recomputation with two data-parallel replicas (wasm)', () => {
  before(async () => {
    await selectBackend('wasm');
  });
  after(() => tf.disposeVariables());

  it('trains to bit-identical weights, momentum and running statistics', async () => {
    const config = convConfig(3);
    const finalTensors: Map<string, { values: Float32Array }>[] = [];
    for (const recompute of [false, true]) {
      const l = createLearner(config, [28, 28, 1], 10, 1000);
      l.recompute = recompute;
      const dp = await DataParallelTrainer.start(l, config, { inputShape: [28, 28, 1], classes: 10 }, 'wasm', 2);
      l.parallel = dp;
      try {
        for (let s = 0; s < 3; s++) {
          const { x, y } = batch(12, 10 + s);
          await trainStep(l, x, y);
          tf.dispose([x, y]);
        }
        const mine = await learnerTensors(l);
        const [replica] = await dp.replicaStates();
        for (const [k, t] of mine) assert.deepEqual(replica.tensors.get(k)!.values, t.values, `replica's ${k}`);
        finalTensors.push(mine);
      } finally {
        await dp.close();
        disposeLearner(l);
      }
    }
    const [plain, recomputed] = finalTensors;
    for (const [k, t] of plain) assert.deepEqual(recomputed.get(k)!.values, t.values, k);
  });
});

describe('the memory plan', () => {
  const paper = convConfig(100).model;
  paper.outerWidth = 64;
  paper.innerWidth = 32;

  it('grows gently with depth when blocks are recomputed', () => {
    const at = (D: number) => estimateStepMemory({ ...paper, maxDepth: D }, [28, 28, 1], 256);
    assert.ok(at(100).plainBytes > 4 * at(100).recomputeBytes);
    // per extra block: every activation and gradient vs only the block's input and one gradient
    const plainSlope = at(100).plainBytes - at(99).plainBytes;
    const recomputeSlope = at(100).recomputeBytes - at(99).recomputeBytes;
    assert.ok(plainSlope > 5 * recomputeSlope, `${plainSlope} vs ${recomputeSlope} bytes per block`);
    // SVHN's 32×32×3 input: 14×14 positions after the stem instead of 12×12
    const svhn = estimateStepMemory(paper, [32, 32, 3], 256).recomputeBytes;
    assert.ok(svhn > 1.3 * at(100).recomputeBytes && svhn < 1.45 * at(100).recomputeBytes);
  });

  it("auto recomputes only when the plain step would not fit a wasm instance's heap", () => {
    const plan = (D: number, replicas = 2, mode: 'auto' | 'on' | 'off' = 'auto') =>
      planMemory({ model: { ...paper, maxDepth: D }, inputShape: [28, 28, 1], batchSize: 512, replicas, backend: 'wasm', mode });
    assert.equal(plan(10).recompute, false);
    assert.equal(plan(100).recompute, true);
    assert.equal(plan(100).rows, 256);
    assert.equal(plan(10, 2, 'on').recompute, true);
    assert.equal(plan(100, 3).rows, 171); // the largest share of 512 over three replicas
    assert.throws(() => plan(100, 2, 'off'), (e: Error) => /needs about [\d.]+ GiB per replica/.test(e.message) && /--recompute auto or on/.test(String((e as { hint?: string }).hint)));
  });

  it('finds the fewest replicas whose step fits, when the thread count is vds\'s to choose', () => {
    const step = { model: { ...paper, maxDepth: 100 }, inputShape: [28, 28, 1], batchSize: 512, backend: 'wasm', mode: 'auto' as const };
    assert.throws(() => planMemory({ ...step, replicas: 1 }), /needs about/); // a sweep's child on one core
    assert.equal(replicasToFit(step, 1, 8), 2);
    assert.equal(replicasToFit(step, 2, 8), 2);
    assert.equal(replicasToFit({ ...step, model: { ...paper, maxDepth: 2000 } }, 1, 8), 1, 'none fits: left to the pre-flight refusal');
  });

  it('refuses a step that does not fit even recomputed, with the estimate, the limit and the ways out', () => {
    let err: (Error & { hint?: string }) | null = null;
    try {
      planMemory({ model: { ...paper, maxDepth: 400 }, inputShape: [32, 32, 3], batchSize: 4096, replicas: 2, backend: 'wasm', mode: 'auto' });
    } catch (e) {
      err = e as Error & { hint?: string };
    }
    assert.ok(err, 'refused');
    assert.match(err.message, /needs about [\d.]+ GiB per replica \(2048 rows, depth 400, blocks recomputed\), more than 3\.4 GiB usable of a wasm instance's 4 GiB heap/);
    assert.match(err.hint!, /--threads N/);
    // the batch advice is the largest batch the plan says fits (not merely half of it, which still would not)
    const advised = Number(/train\.batchSize=(\d+)/.exec(err.hint!)?.[1]);
    const at = (batchSize: number) => tryPlanMemory({ model: { ...paper, maxDepth: 400 }, inputShape: [32, 32, 3], batchSize, replicas: 2, backend: 'wasm', mode: 'auto' });
    assert.ok(advised >= 2 && advised < 2048, `advised batch ${advised}`);
    assert.ok(!(at(advised) instanceof Error), `batch ${advised} fits`);
    assert.ok(at(advised + 2) instanceof Error, `batch ${advised + 2} does not`);
    assert.match(err.hint!, /GPU backend/);
    // no batch advice when not even one row per replica fits
    const hopeless = tryPlanMemory({ model: { ...paper, maxDepth: 200000 }, inputShape: [32, 32, 3], batchSize: 64, replicas: 1, backend: 'wasm', mode: 'auto' });
    assert.ok(hopeless instanceof Error && !/batchSize=/.test(String((hopeless as Error & { hint?: string }).hint)), String((hopeless as Error & { hint?: string }).hint));
  });

  it('reads --recompute, else $VDS_RECOMPUTE, and rejects anything else by name', () => {
    const saved = process.env.VDS_RECOMPUTE;
    try {
      delete process.env.VDS_RECOMPUTE;
      assert.equal(resolveRecompute(), 'auto');
      process.env.VDS_RECOMPUTE = 'on';
      assert.equal(resolveRecompute(), 'on');
      assert.equal(resolveRecompute('off'), 'off');
      process.env.VDS_RECOMPUTE = 'sometimes';
      assert.throws(() => resolveRecompute(), /VDS_RECOMPUTE.*|expected one of auto, on, off, got "sometimes"/);
    } finally {
      if (saved === undefined) delete process.env.VDS_RECOMPUTE;
      else process.env.VDS_RECOMPUTE = saved;
    }
  });
});

describe('vds train --recompute', () => {
  it('on and off give the same eval.json on two replicas, and env.json records which ran', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vds-recompute-run-'));
    try {
      const file = path.join(dir, 'tiny.yaml');
      writeFileSync(file, configToYaml(tinyConfig(dir, ['train.epochs=2'])));
      const runs = (['on', 'off'] as const).map((mode) => {
        const r = vds(['train', '--config', file, '--recompute', mode, '--threads', '2', '--run-id', `r-${mode}`, '--progress', 'plain']);
        assert.equal(r.code, 0, r.stderr);
        const runDir = r.stdout.trim().split('\n').pop()!;
        const env = JSON.parse(readFileSync(path.join(runDir, 'env.json'), 'utf8'));
        assert.equal(env.recompute, mode === 'on');
        assert.equal(env.replicas, 2);
        assert.ok(env.memory.recomputeBytes < env.memory.plainBytes);
        const ev = JSON.parse(readFileSync(path.join(runDir, 'eval.json'), 'utf8'));
        assert.equal(ev.evalReplicas, 2);
        return ev;
      });
      const numbers = (ev: Record<string, unknown>) => JSON.stringify({ ...ev, trainSeconds: 0, trainTiming: 0, evalSeconds: 0 });
      assert.equal(numbers(runs[0]), numbers(runs[1]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('vds train pre-flight', () => {
  it('refuses a run whose step cannot fit before writing anything (exit 2, bad input), naming the estimate and the ways out', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vds-preflight-'));
    try {
      const r = vds(['train', '--config', path.join(REPO, 'configs/quickstart.yaml'), '--results-dir', dir, '--set', 'model.maxDepth=300', '--set', 'train.batchSize=8192', '--set', 'model.outerWidth=64', '--set', 'model.innerWidth=32']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /a training step needs about [\d.]+ GiB per replica/);
      assert.match(r.stderr, /ways out/);
      assert.equal(existsSync(path.join(dir, 'quickstart')), false, 'nothing written');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
