// A learner is everything one training run updates: the network, the depth posterior and the optimiser.
// This file builds one from a config and moves its tensors in and out of checkpoints.
import { tf, readFloats, takeFloats } from '../tf/tf.ts';
import type { VdsConfig } from '../config/types.ts';
import { createNetwork, PreciseStats } from '../model/index.ts';
import { DepthPosterior } from '../vds/posterior.ts';
import { logPrior } from '../vds/prior.ts';
import { VdsError } from '../util/errors.ts';
import type { Checkpoint } from '../runs/checkpoint.ts';
import { Sgd } from './sgd.ts';
import type { Learner } from './step.ts';

export function createLearner(config: VdsConfig, inputShape: number[], classes: number, nTrain: number): Learner {
  const net = createNetwork(config.model, inputShape, classes, config.seed);
  const learnt = config.model.method === 'learnt';
  const posterior = new DepthPosterior(config.model.maxDepth, learnt);
  // a fixed-depth network computes only its own head: q = 1 there and KL = 0, so log p = [0]
  const prior = learnt ? Array.from(logPrior(config.prior, config.model.maxDepth)) : [0];
  const { lr, momentum, weightDecay } = config.train;
  return { net, posterior, opt: new Sgd(lr, momentum, weightDecay), logPrior: tf.tensor1d(prior, 'float32'), nTrain };
}

/** Weights of the network cut at `depth` plus its α (depth + 1 logits; none for a fixed-depth network). */
export function learnerParams(l: Learner, depth: number): number {
  return l.net.paramCount(depth) + (l.posterior.learnt ? depth + 1 : 0);
}

export function disposeLearner(l: Learner): void {
  l.net.store.dispose();
  l.posterior.dispose();
  l.opt.dispose();
  l.logPrior.dispose();
  l.precise?.dispose();
}

export type TensorMap = Map<string, { shape: number[]; values: Float32Array }>;

async function snapshot(v: tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  return { shape: [...v.shape], values: new Float32Array(await readFloats(v)) };
}

/** Every tensor the learner needs to continue exactly where it was. */
export async function learnerTensors(l: Learner, withOptimizer = true): Promise<TensorMap> {
  const out: TensorMap = new Map();
  for (const [name, v] of l.net.store.params) out.set(`param:${name}`, await snapshot(v));
  for (const [name, v] of l.net.store.buffers) out.set(`buffer:${name}`, await snapshot(v));
  if (l.posterior.alpha) out.set('alpha', await snapshot(l.posterior.alpha));
  await l.precise?.toTensorMap(out); // the precise statistics these weights were evaluated with
  if (withOptimizer) for (const [name, v] of l.opt.buffers) out.set(`momentum:${name}`, await snapshot(v));
  return out;
}

/**
 * The name of the first weight, BatchNorm buffer or α that holds a NaN or an infinity, or null. One read of
 * one value per tensor: x − x is 0 for every finite x and NaN for NaN and ±∞, so each sum is 0 or NaN.
 */
export async function firstNonFinite(l: Learner): Promise<string | null> {
  const named: [string, tf.Tensor][] = [...l.net.store.params].map(([n, v]) => [`weight ${n}`, v]);
  for (const [n, v] of l.net.store.buffers) named.push([`BatchNorm buffer ${n}`, v]);
  if (l.posterior.alpha) named.push(['α (the depth posterior logits)', l.posterior.alpha]);
  if (!named.length) return null;
  const sums = await takeFloats(tf.tidy(() => tf.stack(named.map(([, v]) => tf.sum(tf.sub(v, v))))));
  const at = sums.findIndex((s) => !Number.isFinite(s));
  return at < 0 ? null : named[at][0];
}

/** Loads a checkpoint's tensors into a learner built from the same config; every tensor must match. */
export function restoreLearner(l: Learner, ckpt: Pick<Checkpoint, 'tensors'>, file: string, withOptimizer = true): void {
  assignLearnerTensors(l, ckpt.tensors, file, withOptimizer);
  // precise statistics belong to the weights just loaded; a checkpoint written before they existed has none
  l.precise?.dispose();
  l.precise = PreciseStats.fromTensorMap(ckpt.tensors) ?? undefined;
}

/**
 * Weights, BatchNorm buffers, α and (withOptimizer) momentum from a tensor map (a checkpoint's, or the
 * engine's after training on the GPU) into the learner; `source` names where they came from in errors.
 */
export function assignLearnerTensors(l: Learner, tensors: TensorMap, source: string, withOptimizer = true): void {
  const take = (key: string, target: tf.Variable): void => {
    const t = tensors.get(key);
    if (!t) throw new VdsError(`checkpoint lacks tensor "${key}"`, { file: source, hint: 'the checkpoint does not belong to this config' });
    if (t.shape.join(',') !== target.shape.join(',')) {
      throw new VdsError(`tensor "${key}" has shape [${t.shape}], the network expects [${target.shape}]`, { file: source });
    }
    target.assign(tf.tensor(t.values, t.shape, 'float32'));
  };
  tf.tidy(() => {
    for (const [name, v] of l.net.store.params) take(`param:${name}`, v);
    for (const [name, v] of l.net.store.buffers) take(`buffer:${name}`, v);
    if (l.posterior.alpha) take('alpha', l.posterior.alpha);
  });
  if (!withOptimizer) return;
  l.opt.dispose();
  for (const [key, t] of tensors) {
    if (!key.startsWith('momentum:')) continue;
    const name = key.slice('momentum:'.length);
    const init = tf.tensor(t.values, t.shape, 'float32');
    l.opt.buffers.set(name, tf.variable(init, false));
    init.dispose();
  }
}
