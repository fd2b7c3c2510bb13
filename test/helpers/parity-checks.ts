// The reference-parity checks of one case (test/fixtures/reference-parity.json), shared by the cpu/wasm
// parity test and the webgpu test. Every read is asynchronous, so the same checks run on webgpu.
import assert from 'node:assert/strict';
import { tf } from '../../src/tf/tf.ts';
import { Sgd } from '../../src/train/sgd.ts';
import { disposeKept, lossAndGrads, trainStep, type Learner } from '../../src/train/step.ts';
import { vdsLoss } from '../../src/vds/objective.ts';
import { logPrior } from '../../src/vds/prior.ts';
import { marginalLogProbs, truncatedLogQ } from '../../src/vds/predict.ts';
import { pruneDepth } from '../../src/vds/prune.ts';
import { buildReferenceModel, closeTo, imagesToTf, toTf, vdsName, type RefCase } from './reference.ts';
import { read, scoped } from './tf-async.ts';

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const miss = closeTo(actual, expected);
  assert.equal(miss, null, `${what}: ${miss}`);
}


export async function checkCase(c: RefCase, recompute: boolean): Promise<void> {
  const { net, posterior } = buildReferenceModel(c);
  const D = net.maxDepth;
  const prior = logPrior({ kind: 'geometric', decay: 0.85 }, D);
  expectClose('prior', prior.map(Math.exp), c.prior_probs.data);
  const learner: Learner = {
    net,
    posterior,
    opt: new Sgd(c.lr, c.momentum, 0),
    logPrior: tf.tensor1d(Array.from(prior), 'float32'),
    nTrain: c.n_train,
    recompute, // activation checkpointing must not change a single number
  };
  const x = imagesToTf(c.x);
  const y = tf.tensor1d(c.y, 'int32');
  try {
    for (const [s, ref] of c.steps.entries()) {
      await scoped(async () => {
        const out = net.forward(x, { training: true, upTo: D, heads: 'all' });
        expectClose(`step ${s + 1} q`, await posterior.probs(), ref.q_probs.data);
        expectClose(`step ${s + 1} logits`, await read(out.logits), ref.logits_per_depth.data);
        const obj = vdsLoss(out.logits, y, posterior.logQ(), learner.logPrior, c.n_train);
        expectClose(`step ${s + 1} expected NLL`, await read(obj.expectedNll), [ref.expected_nll]);
        expectClose(`step ${s + 1} KL`, await read(obj.kl), [ref.kl]);
        expectClose(`step ${s + 1} loss`, await read(obj.loss), [ref.loss]);
      });
      if (ref.grads) {
        await scoped(async () => {
          const { grads, batchStats, extras } = lossAndGrads(learner, x, y);
          disposeKept(batchStats, extras);
          for (const [key, g] of Object.entries(ref.grads!)) {
            const name = vdsName(key, net.kind);
            const actual = grads.get(name);
            assert.ok(actual, `no gradient for ${name}`);
            const expected = toTf(g);
            expectClose(`step ${s + 1} grad ${key}`, await read(actual), await read(expected));
          }
          assert.equal(grads.size, Object.keys(ref.grads!).length, 'gradient count');
        });
      }
      const stats = await trainStep(learner, x, y);
      expectClose(`step ${s + 1} loss from trainStep`, [stats.loss], [ref.loss]);
    }

    for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
      const name = vdsName(key, net.kind);
      const v = name === 'q.alpha' ? posterior.alpha! : net.store.get(name);
      await scoped(async () => expectClose(`after two steps ${key}`, await read(v), await read(toTf(value))));
    }

    const ev = c.eval_after_two_steps;
    await scoped(async () => {
      const q = await posterior.probs();
      expectClose('eval q', q, ev.q_probs.data);
      const out = net.forward(x, { training: false, upTo: D, heads: 'all' });
      expectClose('eval logits', await read(out.logits), ev.logits_per_depth.data);
      const logQ = posterior.logQ();
      expectClose('eval marginal', await read(tf.exp(marginalLogProbs(out.logits, logQ))), ev.marginal_probs.data);
      for (const [d, probs] of Object.entries(ev.truncated_probs_by_depth)) {
        const depth = Number(d);
        // the network cut at d computes only blocks 1..d
        const cut = net.forward(x, { training: false, upTo: depth, heads: 'all' });
        const lp = marginalLogProbs(cut.logits, truncatedLogQ(logQ, depth));
        expectClose(`truncated at ${d}`, await read(tf.exp(lp)), probs.data);
      }
      assert.equal(pruneDepth(q, { rule: 'threshold', threshold: 0.95 }), ev.prune_depth_095);
    });
  } finally {
    x.dispose();
    y.dispose();
    learner.logPrior.dispose();
    learner.opt.dispose();
    posterior.dispose();
    net.store.dispose();
  }
}
