// Checks of precise per-depth BatchNorm statistics against test/fixtures/precise-bn.json (an independent
// PyTorch implementation), shared by the cpu/wasm test and the webgpu test; every read is asynchronous.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tf } from '../../src/tf/tf.ts';
import { calibrateNetwork } from '../../src/train/calibrate.ts';
import { marginalLogProbs, truncatedLogQ } from '../../src/vds/predict.ts';
import { ConvResNet } from '../../src/model/index.ts';
import { DepthPosterior } from '../../src/vds/posterior.ts';
import { pruneTensors } from '../../src/runs/pruning.ts';
import { Rng } from '../../src/util/rng.ts';
import { buildReferenceModel, closeTo, imagesToTf, loadReferenceCases, toTf, vdsName, type RefTensor } from './reference.ts';
import { read, scoped } from './tf-async.ts';

interface PreciseFixture {
  case: string;
  calibration_batches: RefTensor[];
  block_stats: Record<string, { mean: RefTensor; var: RefTensor }>; // 'blocks.0.bn1' → its pair
  head_stats_by_depth: { mean: RefTensor; var: RefTensor }[];
  eval_on_x: { logits_per_depth: RefTensor; marginal_probs: RefTensor; truncated_probs_by_depth: Record<string, RefTensor> };
}

export const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../fixtures/precise-bn.json', import.meta.url)), 'utf8')) as PreciseFixture;

function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const miss = closeTo(actual, expected);
  assert.equal(miss, null, `${what}: ${miss}`);
}

export async function check(): Promise<void> {
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
    const running: [string, number[]][] = [];
    for (const [n, v] of net.store.buffers) running.push([n, Array.from(await read(v))]);
    const batches = fixture.calibration_batches;
    const stats = await calibrateNetwork(net, 'all', net.maxDepth, batches.length, (k) => imagesToTf(batches[k]));
    try {
      for (const [prefix, s] of Object.entries(fixture.block_stats)) {
        const got = stats.get(prefix, undefined);
        expectClose(`${prefix} mean`, await read(got.mean), s.mean.data);
        expectClose(`${prefix} var`, await read(got.variance), s.var.data);
      }
      assert.equal(Object.keys(fixture.block_stats).length, 3 * net.maxDepth);
      for (const [d, s] of fixture.head_stats_by_depth.entries()) {
        const got = stats.get('head.bn', d);
        expectClose(`head.bn at depth ${d} mean`, await read(got.mean), s.mean.data);
        expectClose(`head.bn at depth ${d} var`, await read(got.variance), s.var.data);
      }
      assert.equal(stats.entries.size, 3 * net.maxDepth + net.maxDepth + 1, 'one pair per block BatchNorm and one per depth for the head');

      const ev = fixture.eval_on_x;
      await scoped(async () => {
        const out = net.forward(x, { training: false, upTo: net.maxDepth, heads: 'all', stats });
        expectClose('eval logits with precise statistics', await read(out.logits), ev.logits_per_depth.data);
        const logQ = posterior.logQ();
        expectClose('marginal', await read(tf.exp(marginalLogProbs(out.logits, logQ))), ev.marginal_probs.data);
        for (const [d, probs] of Object.entries(ev.truncated_probs_by_depth)) {
          const cut = net.forward(x, { training: false, upTo: Number(d), heads: 'all', stats });
          expectClose(`truncated at ${d}`, await read(tf.exp(marginalLogProbs(cut.logits, truncatedLogQ(logQ, Number(d))))), probs.data);
        }
      });
      // calibration leaves the weights' running statistics as they were
      for (const [n, before] of running) assert.deepEqual(Array.from(await read(net.store.get(n))), before, `${n} unchanged`);
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
export async function checkPruned(): Promise<void> {
  const c = loadReferenceCases().find((x) => x.name === fixture.case)!;
  const { net, posterior } = buildReferenceModel(c);
  for (const [key, value] of Object.entries(c.after_two_steps_state_dict)) {
    const name = vdsName(key, net.kind);
    tf.tidy(() => (name === 'q.alpha' ? posterior.alpha! : net.store.get(name)).assign(toTf(value)));
  }
  const tensors = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [n, v] of net.store.params) tensors.set(`param:${n}`, { shape: v.shape, values: await read(v) });
  for (const [n, v] of net.store.buffers) tensors.set(`buffer:${n}`, { shape: v.shape, values: await read(v) });
  tensors.set('alpha', { shape: [net.maxDepth + 1], values: await read(posterior.alpha!) });
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
  const stats = await calibrateNetwork(small, 'all', depth, batches.length, (k) => imagesToTf(batches[k]));
  try {
    assert.equal(stats.entries.size, 3 * depth + depth + 1, 'statistics only for the depths it computes');
    await scoped(async () => {
      const x = imagesToTf(c.x);
      const out = small.forward(x, { training: false, upTo: depth, heads: 'all', stats });
      expectClose(`pruned at ${depth}`, await read(tf.exp(marginalLogProbs(out.logits, q.logQ()))), fixture.eval_on_x.truncated_probs_by_depth[String(depth)].data);
    });
  } finally {
    stats.dispose();
    for (const m of [net.store, small.store]) m.dispose();
    posterior.dispose();
    q.dispose();
  }
}
