// Precise per-depth BatchNorm statistics (SPEC §8) against ground truth from an independent PyTorch
// implementation (test/fixtures/precise-bn.json): the conv case of reference-parity.json after its two SGD
// steps, calibrated on three batches — every statistic, every depth's eval logits, the marginal and the
// truncated predictions, on cpu and wasm.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/tf/tf.ts';
import { selectBackend } from '../src/tf/backend.ts';
import { calibrateNetwork } from '../src/train/calibrate.ts';
import { marginalLogProbs, truncatedLogQ } from '../src/vds/predict.ts';
import { ConvResNet } from '../src/model/index.ts';
import { DepthPosterior } from '../src/vds/posterior.ts';
import { pruneTensors } from '../src/runs/pruning.ts';
import { Rng } from '../src/util/rng.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName, type RefTensor } from './helpers/reference.ts';

interface PreciseFixture {
  case: string;
  calibration_batches: RefTensor[];
  block_stats: Record<string, { mean: RefTensor; var: RefTensor }>; // 'blocks.0.bn1' → its pair
  head_stats_by_depth: { mean: RefTensor; var: RefTensor }[];
  eval_on_x: { logits_per_depth: RefTensor; marginal_probs: RefTensor; truncated_probs_by_depth: Record<string, RefTensor> };
}

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/precise-bn.json', import.meta.url)), 'utf8')) as PreciseFixture;

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const miss = closeTo(actual, expected);
  assert.equal(miss, null, `${what}: ${miss}`);
}

function check(): void {
  const c = loadReferenceCases().find((x) => x.name === fixture.case)!;
  assert.ok(c, `reference case ${fixture.case}`);
  const { net, posterior } = buildReferenceModel(c);
  const x = imagesToTf(c.x);
  try {
    // the weights, α and running statistics after the reference's two SGD steps
    for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
      const name = vdsName(key, net.kind);
      const target = name === 'q.alpha' ? posterior.alpha! : net.store.get(name);
      tf.tidy(() => target.assign(toTf(value)));
    }
    const running = [...net.store.buffers].map(([n, v]) => [n, Array.from(v.dataSync())] as const);
    const batches = fixture.calibration_batches;
    const stats = calibrateNetwork(net, 'all', net.maxDepth, batches.length, (k) => imagesToTf(batches[k]));
    try {
      for (const [prefix, s] of Object.entries(fixture.block_stats)) {
        const got = stats.get(prefix, undefined);
        expectClose(`${prefix} mean`, got.mean.dataSync(), s.mean.data);
        expectClose(`${prefix} var`, got.variance.dataSync(), s.var.data);
      }
      assert.equal(Object.keys(fixture.block_stats).length, 3 * net.maxDepth);
      fixture.head_stats_by_depth.forEach((s, d) => {
        const got = stats.get('head.bn', d);
        expectClose(`head.bn at depth ${d} mean`, got.mean.dataSync(), s.mean.data);
        expectClose(`head.bn at depth ${d} var`, got.variance.dataSync(), s.var.data);
      });
      assert.equal(stats.entries.size, 3 * net.maxDepth + net.maxDepth + 1, 'one pair per block BatchNorm and one per depth for the head');

      const ev = fixture.eval_on_x;
      tf.tidy(() => {
        const out = net.forward(x, { training: false, upTo: net.maxDepth, heads: 'all', stats });
        expectClose('eval logits with precise statistics', out.logits.dataSync(), ev.logits_per_depth.data);
        const logQ = posterior.logQ();
        expectClose('marginal', tf.exp(marginalLogProbs(out.logits, logQ)).dataSync(), ev.marginal_probs.data);
        for (const [d, probs] of Object.entries(ev.truncated_probs_by_depth)) {
          const cut = net.forward(x, { training: false, upTo: Number(d), heads: 'all', stats });
          expectClose(`truncated at ${d}`, tf.exp(marginalLogProbs(cut.logits, truncatedLogQ(logQ, Number(d)))).dataSync(), probs.data);
        }
      });
      // calibration leaves the weights' running statistics as they were
      for (const [n, before] of running) assert.deepEqual(Array.from(net.store.get(n).dataSync()), before, `${n} unchanged`);
    } finally {
      stats.dispose();
    }
  } finally {
    x.dispose();
    posterior.dispose();
    net.store.dispose();
  }
}

/** The fixture's network pruned at d* (its own checkpoint tensors), recalibrated for its own depths. */
function checkPruned(): void {
  const c = loadReferenceCases().find((x) => x.name === fixture.case)!;
  const { net, posterior } = buildReferenceModel(c);
  for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
    const name = vdsName(key, net.kind);
    tf.tidy(() => (name === 'q.alpha' ? posterior.alpha! : net.store.get(name)).assign(toTf(value)));
  }
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [n, v] of net.store.params) tensors.set(`param:${n}`, { shape: v.shape, values: v.dataSync() as Float32Array });
  for (const [n, v] of net.store.buffers) tensors.set(`buffer:${n}`, { shape: v.shape, values: v.dataSync() as Float32Array });
  tensors.set('alpha', { shape: [net.maxDepth + 1], values: posterior.alpha!.dataSync() as Float32Array });
  const depth = c.eval_after_two_steps.prune_depth_095;
  assert.ok(depth < net.maxDepth, 'the case prunes something');
  const cut = pruneTensors(tensors, depth);
  const small = new ConvResNet({ ...(net as ConvResNet).shape, maxDepth: depth }, Rng.fromSeed(1));
  const q = new DepthPosterior(depth, true);
  for (const [n, v] of [...small.store.params, ...small.store.buffers]) {
    const t = cut.get(small.store.params.has(n) ? `param:${n}` : `buffer:${n}`)!;
    v.assign(tf.tensor(t.values, t.shape));
  }
  q.alpha!.assign(tf.tensor(cut.get('alpha')!.values));
  const batches = fixture.calibration_batches;
  const stats = calibrateNetwork(small, 'all', depth, batches.length, (k) => imagesToTf(batches[k]));
  try {
    assert.equal(stats.entries.size, 3 * depth + depth + 1, 'statistics only for the depths it computes');
    tf.tidy(() => {
      const x = imagesToTf(c.x);
      const out = small.forward(x, { training: false, upTo: depth, heads: 'all', stats });
      expectClose(`pruned at ${depth}`, tf.exp(marginalLogProbs(out.logits, q.logQ())).dataSync(), fixture.eval_on_x.truncated_probs_by_depth[String(depth)].data);
    });
  } finally {
    stats.dispose();
    for (const m of [net.store, small.store]) m.dispose();
    posterior.dispose();
    q.dispose();
  }
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`precise BatchNorm statistics on ${backend}`, () => {
    before(async () => {
      await selectBackend(backend);
    });
    after(() => tf.disposeVariables());
    it(`reproduces ${fixture.case} (statistics, logits, marginal, truncated)`, check);
    it('a network pruned at d* and recalibrated for its own depths predicts the truncated marginal at d*', checkPruned);
    it('leaks no tensor', () => {
      check(); // warm-up
      const before = tf.memory().numTensors;
      check();
      assert.equal(tf.memory().numTensors, before);
    });
  });
}
