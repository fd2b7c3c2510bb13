// No tensor leaks: after a warm-up (optimiser slots appear on step one), further training steps,
// calibration of precise statistics, validation and final prediction (both statistics) leave tf.memory().numTensors unchanged.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset } from '../src/data/index.ts';
import { tensorBatch, range } from '../src/train/batches.ts';
import { predictSplit, validate } from '../src/train/evaluate.ts';
import { createLearner, disposeLearner } from '../src/train/learner.ts';
import { trainStep } from '../src/train/step.ts';
import { calibrate, calibrationPlan, setPreciseStats } from '../src/train/calibrate.ts';
import { tempDir, tinyConfig } from './helpers/tiny-run.ts';

for (const method of ['learnt', 'fixed'] as const) {
  describe(`tensor leaks (${method} depth)`, () => {
    before(async () => {
      await selectBackend('wasm');
    });

    it('training steps, validation and prediction keep the tensor count flat', async () => {
      const root = tempDir('leak');
      const config = tinyConfig(root, [`model.method=${method}`]);
      const ds = await loadDataset(config.data, config.seed, { dataDir: root });
      const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
      const step = async (i: number) => {
        const b = tensorBatch(ds, ds.train, range(i * 32, (i + 1) * 32));
        await trainStep(l, b.x, b.y);
        b.x.dispose();
        b.y.dispose();
      };
      const plan = calibrationPlan(config, ds);
      const evaluate = async () => {
        setPreciseStats(l, await calibrate(l, ds, plan)); // replaces (and frees) the previous epoch's statistics
        for (const stats of [undefined, l.precise]) {
          await validate(l, ds, ds.validation, 50, stats);
          await predictSplit(l, ds, ds.test, 50, config.model.maxDepth, true, stats);
          // a fixed-depth network's head is calibrated at its own depth only
          if (method === 'learnt' || !stats) await predictSplit(l, ds, ds.test, 50, 1, false, stats);
        }
      };
      await step(0); // warm-up: momentum buffers are created here
      await evaluate();
      const before = tf.memory().numTensors;
      for (let i = 1; i < 4; i++) await step(i);
      await evaluate();
      assert.equal(tf.memory().numTensors, before);
      disposeLearner(l);
    });
  });
}
