// Parity with the paper's reference PyTorch implementation: two SGD steps on a tiny conv VDS ResNet and a
// tiny fully connected one must reproduce every logit, the ELBO terms, every gradient, the parameters and
// BatchNorm running statistics after both steps, and the eval-mode predictions — on wasm and cpu, with and
// without recomputing residual blocks in the backward pass.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { Sgd } from '../src/train/sgd.ts';
import { disposeKept, lossAndGrads, trainStep, type Learner } from '../src/train/step.ts';
import { vdsLoss } from '../src/vds/objective.ts';
import { logPrior } from '../src/vds/prior.ts';
import { marginalLogProbs, truncatedLogQ } from '../src/vds/predict.ts';
import { pruneDepth } from '../src/vds/prune.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName, type RefCase } from './helpers/reference.ts';

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const miss = closeTo(actual, expected);
  assert.equal(miss, null, `${what}: ${miss}`);
}

function read(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function checkCase(c: RefCase, recompute: boolean): void {
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
    c.steps.forEach((ref, s) => {
      tf.tidy(() => {
        const out = net.forward(x, { training: true, upTo: D, heads: 'all' });
        expectClose(`step ${s + 1} q`, posterior.probs(), ref.q_probs.data);
        expectClose(`step ${s + 1} logits`, read(out.logits), ref.logits_per_depth.data);
        const obj = vdsLoss(out.logits, y, posterior.logQ(), learner.logPrior, c.n_train);
        expectClose(`step ${s + 1} expected NLL`, read(obj.expectedNll), [ref.expected_nll]);
        expectClose(`step ${s + 1} KL`, read(obj.kl), [ref.kl]);
        expectClose(`step ${s + 1} loss`, read(obj.loss), [ref.loss]);
      });
      if (ref.grads) {
        tf.tidy(() => {
          const { grads, batchStats, extras } = lossAndGrads(learner, x, y);
          disposeKept(batchStats, extras);
          for (const [key, g] of Object.entries(ref.grads!)) {
            const name = vdsName(key, net.kind);
            const actual = grads.get(name);
            assert.ok(actual, `no gradient for ${name}`);
            const expected = toTf(g);
            expectClose(`step ${s + 1} grad ${key}`, read(actual), read(expected));
          }
          assert.equal(grads.size, Object.keys(ref.grads!).length, 'gradient count');
        });
      }
      const stats = trainStep(learner, x, y);
      expectClose(`step ${s + 1} loss from trainStep`, [stats.loss], [ref.loss]);
    });

    for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
      const name = vdsName(key, net.kind);
      const v = name === 'q.alpha' ? posterior.alpha! : net.store.get(name);
      tf.tidy(() => expectClose(`after two steps ${key}`, read(v), read(toTf(value))));
    }

    const ev = c.eval_after_two_steps;
    tf.tidy(() => {
      const q = posterior.probs();
      expectClose('eval q', q, ev.q_probs.data);
      const out = net.forward(x, { training: false, upTo: D, heads: 'all' });
      expectClose('eval logits', read(out.logits), ev.logits_per_depth.data);
      const logQ = posterior.logQ();
      expectClose('eval marginal', read(tf.exp(marginalLogProbs(out.logits, logQ))), ev.marginal_probs.data);
      for (const [d, probs] of Object.entries(ev.truncated_probs_by_depth)) {
        const depth = Number(d);
        // the network cut at d computes only blocks 1..d
        const cut = net.forward(x, { training: false, upTo: depth, heads: 'all' });
        const lp = marginalLogProbs(cut.logits, truncatedLogQ(logQ, depth));
        expectClose(`truncated at ${d}`, read(tf.exp(lp)), probs.data);
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

for (const backend of ['cpu', 'wasm'] as const) {
  for (const recompute of [false, true]) {
    describe(`reference parity on ${backend}${recompute ? ', residual blocks recomputed in the backward pass' : ''}`, () => {
      before(async () => {
        await selectBackend(backend);
      });
      after(() => tf.disposeVariables());
      for (const c of loadReferenceCases()) {
        it(c.name, () => checkCase(c, recompute));
      }
    });
  }
}
