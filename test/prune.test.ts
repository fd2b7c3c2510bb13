// Pruning (SPEC §4): the network cut at d* and rebuilt from its own pruned checkpoint predicts exactly
// what the full network truncated at d* predicts (the reference's truncated_probs_by_depth), and counts
// only the parameters it keeps.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/runs/checkpoint.ts';
import { pruneTensors, truncatedAlpha } from '../src/runs/pruning.ts';
import { ConvResNet } from '../src/model/index.ts';
import { DepthPosterior } from '../src/vds/posterior.ts';
import { marginalLogProbs } from '../src/vds/predict.ts';
import { pruneDepth } from '../src/vds/prune.ts';
import { Rng } from '../src/util/rng.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName } from './helpers/reference.ts';

describe('pruning', () => {
  before(async () => {
    await selectBackend('cpu');
  });

  it('truncatedAlpha moves the tail mass onto d*', () => {
    const alpha = Float32Array.from([0.3, -0.2, 0.5, 0.1]);
    const q = Array.from(alpha, Math.exp);
    const z = q.reduce((a, b) => a + b);
    const t = Array.from(truncatedAlpha(alpha, 1), Math.exp);
    assert.equal(t.length, 2);
    assert.ok(Math.abs(t[0] - q[0] / z) < 1e-6);
    assert.ok(Math.abs(t[1] - (q[1] + q[2] + q[3]) / z) < 1e-6);
  });

  it('prune rule: threshold and expected', () => {
    assert.equal(pruneDepth([0.1, 0.2, 0.39, 0.31], { rule: 'threshold', threshold: 0.95 }), 2);
    assert.equal(pruneDepth([0.1, 0.385, 0.4, 0.115], { rule: 'threshold', threshold: 0.95 }), 1);
    assert.equal(pruneDepth([0.1, 0.385, 0.4, 0.115], { rule: 'threshold', threshold: 1 }), 2);
    assert.equal(pruneDepth([0.5, 0, 0, 0.5], { rule: 'expected', threshold: 0.95 }), 2); // round(1.5)
  });

  it('the pruned checkpoint reproduces the reference truncated predictions', async () => {
    const c = loadReferenceCases().find((k) => k.architecture.kind === 'conv')!;
    const full = buildReferenceModel(c);
    // load the reference's parameters after two steps (eval mode uses their running statistics)
    for (const [key, v] of Object.entries(c.after_two_steps_state_dict)) {
      const name = vdsName(key, 'conv');
      const t = toTf(v);
      (name === 'q.alpha' ? full.posterior.alpha! : full.net.store.get(name)).assign(t);
      t.dispose();
    }
    const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const [n, v] of full.net.store.params) tensors.set(`param:${n}`, { shape: v.shape, values: v.dataSync() as Float32Array });
    for (const [n, v] of full.net.store.buffers) tensors.set(`buffer:${n}`, { shape: v.shape, values: v.dataSync() as Float32Array });
    tensors.set('alpha', { shape: [4], values: full.posterior.alpha!.dataSync() as Float32Array });
    const depth = c.eval_after_two_steps.prune_depth_095;
    assert.equal(pruneDepth(await full.posterior.probs(), { rule: 'threshold', threshold: 0.95 }), depth);

    const bytes = encodeCheckpoint({ vdsVersion: 'test', kind: 'pruned', config: {}, state: {} }, pruneTensors(tensors, depth));
    const ckpt = decodeCheckpoint(Buffer.from(bytes), 'pruned.ckpt');
    const a = c.architecture;
    const net = new ConvResNet(
      { inputChannels: 1, classes: 10, maxDepth: depth, outerWidth: a.outer_width as number, innerWidth: a.inner_width as number },
      Rng.fromSeed(1),
    );
    const posterior = new DepthPosterior(depth, true);
    for (const [n, v] of [...net.store.params, ...net.store.buffers]) {
      const t = ckpt.tensors.get(net.store.params.has(n) ? `param:${n}` : `buffer:${n}`);
      assert.ok(t, `pruned checkpoint lacks ${n}`);
      v.assign(tf.tensor(t.values, t.shape));
    }
    posterior.alpha!.assign(tf.tensor(ckpt.tensors.get('alpha')!.values));
    assert.equal(ckpt.tensors.size, net.store.params.size + net.store.buffers.size + 1, 'no blocks beyond d* kept');
    assert.equal(net.paramCount(depth), full.net.paramCount(depth));
    assert.ok(net.paramCount(depth) < full.net.paramCount(3));

    tf.tidy(() => {
      const x = imagesToTf(c.x);
      const out = net.forward(x, { training: false, upTo: depth, heads: 'all' });
      const probs = tf.exp(marginalLogProbs(out.logits, posterior.logQ())).dataSync();
      const miss = closeTo(probs, c.eval_after_two_steps.truncated_probs_by_depth[String(depth)].data);
      assert.equal(miss, null, `pruned predictions: ${miss}`);
    });
  });

  it('a truncated or corrupted checkpoint is refused with a clear error', () => {
    const bytes = Buffer.from(encodeCheckpoint({ vdsVersion: 'test', kind: 'train', config: {}, state: {} }, new Map([['alpha', { shape: [3], values: Float32Array.from([1, 2, 3]) }]])));
    assert.throws(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'x.ckpt'), /x\.ckpt|truncated/);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 0xff;
    assert.throws(() => decodeCheckpoint(flipped, 'x.ckpt'), (e: Error & { format?: () => string }) => /checksum/.test(e.message) && /x\.ckpt/.test(e.format!()));
    assert.throws(() => decodeCheckpoint(Buffer.from('<html>404</html>'), 'x.ckpt'), /signature/);
  });
});
