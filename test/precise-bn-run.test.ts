// Precise BatchNorm statistics inside real runs (tiny MNIST runs on wasm): calibration reads the training
// split only, is seeded, splits over data-parallel replicas without changing a bit, drives early stopping
// when selected (and the reference's running statistics when those are), and eval.json / checkpoints carry it.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import type { Dataset } from '../src/data/types.ts';
import { PreciseStats } from '../src/model/index.ts';
import { calibrate, calibrationPlan } from '../src/train/calibrate.ts';
import { predictSplit, validate } from '../src/train/evaluate.ts';
import { createLearner, disposeLearner } from '../src/train/learner.ts';
import { DataParallelTrainer } from '../src/train/data-parallel.ts';
import { executeRun, checkpointPath } from '../src/runs/execute.ts';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import type { EvalRecord } from '../src/runs/layout.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';

const flat = (s: PreciseStats) => [...s.entries].map(([k, v]) => [k, Array.from(v.mean.dataSync()), Array.from(v.variance.dataSync())]);

describe('precise statistics in runs', () => {
  before(async () => {
    await selectBackend('wasm');
  });

  it('calibration batches come from the training split only, seeded', async () => {
    const root = tempDir('precise-split');
    const config = tinyConfig(root, ['eval.calibrationBatches=5', 'eval.calibrationBatchSize=40']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const plan = calibrationPlan(config, ds);
    assert.equal(plan.length, 5);
    for (const rows of plan) {
      assert.equal(rows.length, 40);
      assert.equal(new Set(rows).size, 40, 'no row twice in a batch');
      assert.ok(rows.every((r) => r < ds.train.n));
    }
    assert.deepEqual(calibrationPlan(config, ds), plan, 'same seed, same batches');
    assert.notDeepEqual(calibrationPlan({ ...config, seed: 1 }, ds), plan, 'another seed, other batches');

    const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
    const a = await calibrate(l, ds, plan);
    // wreck the validation and test images: statistics that read them would change
    const wrecked: Dataset = { ...ds, validation: { ...ds.validation, x: new Uint8Array(ds.validation.x.length).fill(255) }, test: { ...ds.test, x: new Uint8Array(ds.test.x.length).fill(255) } };
    const b = await calibrate(l, wrecked, plan);
    assert.deepEqual(flat(b), flat(a));
    // …whereas other training images do change them
    const c = await calibrate(l, { ...ds, train: { ...ds.train, x: new Uint8Array(ds.train.x.length).fill(7) } }, plan);
    assert.notDeepEqual(flat(c), flat(a));
    for (const s of [a, b, c]) s.dispose();
    disposeLearner(l);
  });

  it('two data-parallel replicas calibrate to the same bits as one thread', async () => {
    const root = tempDir('precise-dp');
    const config = tinyConfig(root, ['eval.calibrationBatches=5']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
    const plan = calibrationPlan(config, ds);
    const one = await calibrate(l, ds, plan);
    const trainer = await DataParallelTrainer.start(l, config, ds, tf.getBackend(), 2);
    try {
      const before = tf.memory().numTensors;
      const perBatch = await trainer.batchStatistics(l, ds, plan);
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      const { averageStatistics } = await import('../src/train/calibrate.ts');
      const two = averageStatistics(perBatch);
      assert.deepEqual(flat(two), flat(one));
      two.dispose();
    } finally {
      await trainer.close();
      one.dispose();
      disposeLearner(l);
    }
  });

  it('validation and test passes on two data-parallel replicas give the same bits as one thread', async () => {
    const root = tempDir('eval-dp');
    const config = tinyConfig(root, ['eval.calibrationBatches=3']);
    const ds = await loadDataset(config.data, config.seed, { dataDir: root });
    const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
    const precise = await calibrate(l, ds, calibrationPlan(config, ds));
    const D = config.model.maxDepth;
    const passes = async () => ({
      valPrecise: await validate(l, ds, ds.validation, 40, precise),
      valRunning: await validate(l, ds, ds.validation, 40),
      test: await predictSplit(l, ds, ds.test, 30, D, true, precise),
      cut: await predictSplit(l, ds, ds.test, 30, 1, false, precise),
    });
    const one = await passes();
    const trainer = await DataParallelTrainer.start(l, config, ds, tf.getBackend(), 2);
    l.parallel = trainer;
    try {
      const before = tf.memory().numTensors;
      const two = await passes();
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      assert.ok(ds.test.n > 2 * 30, 'several batches for each replica');
      assert.deepEqual(two.valPrecise, one.valPrecise);
      assert.deepEqual(two.valRunning, one.valRunning);
      for (const k of ['test', 'cut'] as const) {
        assert.deepEqual(two[k].marginal, one[k].marginal, `${k} marginal`);
        assert.deepEqual(two[k].labels, one[k].labels);
        assert.deepEqual(two[k].perDepth, one[k].perDepth, `${k} per depth`);
      }
      assert.notDeepEqual(one.valPrecise, one.valRunning, 'the statistics reach the replicas');
    } finally {
      l.parallel = undefined;
      await trainer.close();
      precise.dispose();
      disposeLearner(l);
    }
  });

  for (const statistics of ['precise', 'running'] as const) {
    it(`early stopping and model selection follow eval.statistics = ${statistics}; eval.json and checkpoints carry both`, async () => {
      const root = tempDir(`precise-run-${statistics}`);
      const config = tinyConfig(root, [`eval.statistics=${statistics}`, 'train.epochs=4', 'eval.calibrationBatches=4']);
      const ds = await loadDataset(config.data, config.seed, { dataDir: root });
      const dir = path.join(root, 'run');
      const out = await executeRun(config, ds, dir, false, { replicas: 1 }, { interrupted: () => false });
      assert.equal(out.state, 'finished');
      const rows = parseCsv(readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      const score = rows.map((r) => Number(r[`val_elbo_${statistics}`]));
      assert.ok(rows.every((r) => r.val_elbo_precise !== '' && r.val_elbo_running !== '' && Number(r.calibration_seconds) > 0));
      assert.ok(rows.some((r) => r.val_acc_precise !== r.val_acc_running), 'the two sets differ');
      assert.deepEqual(rows.map((r) => Number(r.val_elbo)), score, 'val_elbo is the selected statistics\' one');
      const best = score.indexOf(Math.max(...score)) + 1;
      const ev = JSON.parse(readFileSync(path.join(dir, 'eval.json'), 'utf8')) as EvalRecord;
      assert.equal(ev.bestEpoch, best, 'the best epoch maximises the selected validation ELBO');
      assert.equal(ev.statistics, statistics);
      assert.deepEqual(ev.marginal, ev.byStatistics![statistics]!.marginal);
      assert.deepEqual(ev.calibration, { batches: 4, batchSize: 64 });
      for (const k of ['precise', 'running'] as const) {
        const p = ev.byStatistics![k]!;
        assert.equal(p.perDepth.length, config.model.maxDepth + 1);
        assert.ok(Number.isFinite(p.marginal.logLikelihood) && Number.isFinite(p.pruned.accuracy));
        assert.equal(p.validation.elbo, Number(rows[best - 1][`val_elbo_${k}`]));
      }
      // the best checkpoint holds the precise statistics it was evaluated with; running ones were still updated
      const ckpt = readCheckpoint(checkpointPath(dir, 'best'));
      const keys = [...ckpt.tensors.keys()].filter(PreciseStats.isEntry);
      assert.equal(keys.length, 2 * (3 * config.model.maxDepth + config.model.maxDepth + 1));
      assert.ok(ckpt.tensors.get('buffer:head.bn.runningMean')!.values.some((v) => v !== 0), 'running statistics updated');
    });
  }
});
