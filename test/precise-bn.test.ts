// Precise per-depth BatchNorm statistics (SPEC §8) against ground truth from an independent PyTorch
// implementation (test/fixtures/precise-bn.json): the conv case of reference-parity.json after its two SGD
// steps, calibrated on three batches — every statistic, every depth's eval logits, the marginal and the
// truncated predictions, on cpu and wasm.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { check, checkPruned, fixture } from './helpers/precise-bn-checks.ts';

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`precise BatchNorm statistics on ${backend}`, () => {
    before(async () => {
      await selectBackend(backend);
    });
    after(() => tf.disposeVariables());
    it(`reproduces ${fixture.case} (statistics, logits, marginal, truncated)`, check);
    it('a network pruned at d* and recalibrated for its own depths predicts the truncated marginal at d*', checkPruned);
    it('leaks no tensor', async () => {
      await check(); // warm-up
      const before = tf.memory().numTensors;
      await check();
      assert.equal(tf.memory().numTensors, before);
    });
  });
}
