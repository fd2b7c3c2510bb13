// Evaluation split over a worker thread gives the same marginal predictive as one thread.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { SplitEvaluator } from '../src/tf/split-eval.ts';
import { ConvResNet } from '../src/model/index.ts';
import { DepthPosterior } from '../src/vds/posterior.ts';
import { marginalLogProbs } from '../src/vds/predict.ts';
import { Rng } from '../src/util/rng.ts';

it('SplitEvaluator: worker half + local half equal the one-thread marginal predictive', async () => {
  await selectBackend('wasm');
  const shape = { inputChannels: 1, classes: 10, maxDepth: 3, outerWidth: 8, innerWidth: 4 };
  const net = new ConvResNet(shape, Rng.derive(7, 'init'));
  const posterior = new DepthPosterior(3, true);
  posterior.alpha!.assign(tf.tensor1d([0.3, -0.2, 0.5, 0.1]));
  // non-trivial running statistics, so the worker must receive the buffers too
  net.store.get('blocks.1.bn2.runningMean').assign(tf.fill([4], 0.25));
  const B = 7;
  const x = Float32Array.from({ length: B * 28 * 28 }, (_, i) => Math.sin(0.01 * i));
  const ev = await SplitEvaluator.start(shape, 'wasm');
  try {
    await ev.load(net, posterior);
    const split = await ev.marginal(net, posterior, x, [B, 28, 28, 1]);
    const one = tf.tidy(() => {
      const { logits } = net.forward(tf.tensor(x, [B, 28, 28, 1]), { training: false, upTo: 3, heads: 'all' });
      return Array.from(marginalLogProbs(logits, posterior.logQ()).dataSync());
    });
    assert.equal(split.length, one.length);
    one.forEach((v, i) => assert.ok(Math.abs(split[i] - v) <= 1e-5 * (1 + Math.abs(v)), `[${i}] ${split[i]} vs ${v}`));
  } finally {
    await ev.terminate();
    net.store.dispose();
    posterior.dispose();
  }
});
