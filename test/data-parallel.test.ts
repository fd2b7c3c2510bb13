// Data-parallel training (train/data-parallel.ts): two replicas, each with its share of the batch, must
// still reproduce the reference's two SGD steps, keep bit-identical copies of every tensor, and fail loudly
// rather than hang when a replica fails.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { defaultConfig } from '../src/config/defaults.ts';
import { Sgd } from '../src/train/sgd.ts';
import { trainStep, type Learner } from '../src/train/step.ts';
import { learnerTensors } from '../src/train/learner.ts';
import { logPrior } from '../src/vds/prior.ts';
import { DataParallelTrainer, shareRows } from '../src/train/data-parallel.ts';
import { collectiveBuffer, SharedCollective } from '../src/train/collective.ts';
import { smallestTrainBatch, trainingReplicas } from '../src/train/parallelism.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName } from './helpers/reference.ts';

describe('data-parallel training on wasm', () => {
  before(async () => {
    await selectBackend('wasm');
  });
  after(() => tf.disposeVariables());

  it('splits a batch into contiguous shares, earlier ones no larger', () => {
    assert.deepEqual(shareRows(7, 2), [[0, 3], [3, 7]]);
    assert.deepEqual(shareRows(128, 2), [[0, 64], [64, 128]]);
    assert.deepEqual(shareRows(6, 3), [[0, 2], [2, 4], [4, 6]]);
  });

  it('uses one replica per thread for the conv network on wasm only, never more than a batch has rows', () => {
    const c = defaultConfig();
    c.model.kind = 'conv';
    assert.equal(trainingReplicas('wasm', c, 2, 100), 2);
    assert.equal(trainingReplicas('wasm', c, 8, 3), 3);
    assert.equal(trainingReplicas('tensorflow', c, 2, 100), 1);
    assert.equal(trainingReplicas('cpu', c, 2, 100), 1);
    c.model.kind = 'fc';
    assert.equal(trainingReplicas('wasm', c, 2, 100), 1);
    assert.equal(smallestTrainBatch(1030, 512), 6); // 512, 512, 6
    assert.equal(smallestTrainBatch(1025, 512), 512); // 512, 513: a last batch of one joins the one before
    assert.equal(smallestTrainBatch(300, 0), 300); // full batch
  });

  it('two replicas reproduce the reference two steps, and their copies stay bit-identical', async () => {
    const c = loadReferenceCases().find((k) => k.architecture.kind === 'conv')!;
    const a = c.architecture;
    const { net, posterior } = buildReferenceModel(c);
    const D = net.maxDepth;
    const l: Learner = {
      net,
      posterior,
      opt: new Sgd(c.lr, c.momentum, 0),
      logPrior: tf.tensor1d(Array.from(logPrior({ kind: 'geometric', decay: 0.85 }, D)), 'float32'),
      nTrain: c.n_train,
    };
    // the replica builds its learner from a config, then takes the main thread's tensors
    const config = defaultConfig();
    config.model = { ...config.model, kind: 'conv', method: 'learnt', maxDepth: D, outerWidth: a.outer_width as number, innerWidth: a.inner_width as number };
    config.prior = { kind: 'geometric', decay: 0.85 };
    config.train = { ...config.train, lr: c.lr, momentum: c.momentum, weightDecay: 0 };
    const size = a.image_size as number;
    const dp = await DataParallelTrainer.start(l, config, { inputShape: [size, size, a.input_channels as number], classes: a.classes as number }, 'wasm', 2);
    l.parallel = dp;
    const x = imagesToTf(c.x);
    const y = tf.tensor1d(c.y, 'int32');
    try {
      for (const [s, ref] of c.steps.entries()) {
        const stats = await trainStep(l, x, y);
        const miss = closeTo([stats.loss, stats.expectedNll, stats.kl], [ref.loss, ref.expected_nll, ref.kl]);
        assert.equal(miss, null, `step ${s + 1} loss, NLL, KL: ${miss}`);
      }
      for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
        const name = vdsName(key, net.kind);
        const v = name === 'q.alpha' ? posterior.alpha! : net.store.get(name);
        const expected = toTf(value); // PyTorch layout → vds layout
        const miss = closeTo(v.dataSync() as Float32Array, expected.dataSync() as Float32Array);
        expected.dispose();
        assert.equal(miss, null, `after two steps ${key}: ${miss}`);
      }
      const mine = await learnerTensors(l);
      const [replica] = await dp.replicaStates();
      assert.deepEqual([...replica.tensors.keys()].sort(), [...mine.keys()].sort());
      for (const [k, t] of mine) assert.deepEqual(replica.tensors.get(k)!.values, t.values, `replica's ${k}`);
    } finally {
      await dp.close();
      x.dispose();
      y.dispose();
      l.logPrior.dispose();
      l.opt.dispose();
    }
  });

  it('a failed replica wakes the others with its message instead of leaving them waiting', () => {
    const group = new SharedCollective(collectiveBuffer(2, 4), 0, 2, 5000);
    group.fail('replica 1: out of memory');
    assert.throws(() => group.allReduce(new Float32Array([1, 2])), /replica failed: replica 1: out of memory/);
  });
});
