// Evaluation in eval mode, with the reference's running BatchNorm statistics or, when `stats` is given,
// precise per-depth ones (SPEC §8). Validation gives the numbers early stopping needs; the final
// evaluation gives log-predictives of every predictor for the metrics (SPEC §6): the marginal over all
// depths, each single depth, and the network pruned at d*.
import { tf, takeFloats } from '../tf/tf.ts';
import type { Dataset, Split } from '../data/types.ts';
import { marginalLogProbs, truncatedLogQ } from '../vds/predict.ts';
import { klDivergence, nllPerDepth } from '../vds/objective.ts';
import { batchRanges, range } from './batches.ts';
import { makeBatch } from '../data/batch.ts';
import { headsOf, type EvalPass, type Learner } from './types.ts';

export type { EvalPass } from './types.ts';
import type { Network, PreciseStats } from '../model/index.ts';
import { pulse } from '../util/pulse.ts';

export interface ValidationStats {
  elbo: number; // per sample: −(E_q[NLL] + KL/N_train)
  elboTotal: number; // elbo · N_train, nats
  nll: number; // E_q[NLL] per sample
  kl: number;
  accuracy: number; // marginal predictive
  logLikelihood: number; // marginal predictive, per sample
}

/** Eval-mode logits [H, B, C] of one batch, read back: what the main thread and every replica compute. */
export function evalLogits(net: Network, x: tf.Tensor, o: EvalPass): Promise<Float32Array> {
  const { logits } = net.forward(x, { training: false, upTo: o.upTo, heads: o.heads, stats: o.stats });
  return takeFloats(logits);
}

interface BatchLogits {
  start: number;
  size: number;
  logits: tf.Tensor3D; // [H, B, C]
  y: tf.Tensor1D;
  labels: Int32Array; // y's values
}

/**
 * Calls `use` with the eval-mode logits of each batch of `split`, in batch order. While training runs on
 * several data-parallel replicas the forward passes run on all of them (batch k on replica k mod size),
 * each batch whole, so every number is what one thread computes; the reductions stay on this thread.
 */
async function forEachBatchLogits(l: Learner, ds: Dataset, split: Split, batchSize: number, o: EvalPass, use: (b: BatchLogits) => Promise<void>): Promise<void> {
  const ranges = batchRanges(split.n, batchSize);
  const H = o.heads === 'all' ? o.upTo + 1 : 1;
  const C = l.net.classes;
  const consume = async (k: number, values: Float32Array): Promise<void> => {
    const [s, e] = ranges[k];
    const labels = Int32Array.from(split.y.subarray(s, e));
    const logits = tf.tensor3d(values, [H, e - s, C]);
    const y = tf.tensor1d(labels, 'int32');
    try {
      await use({ start: s, size: e - s, logits, y, labels });
    } finally {
      tf.dispose([logits, y]);
    }
  };
  const forward = async (k: number): Promise<Float32Array> => {
    pulse();
    const [s, e] = ranges[k];
    const b = makeBatch(ds, split, range(s, e));
    const x = tf.tensor(b.x, b.shape, 'float32');
    try {
      return await evalLogits(l.net, x, o);
    } finally {
      x.dispose();
    }
  };
  // replicas pay off from two batches; an engine computes every batch
  if (l.parallel?.evalLogits && (ranges.length > 1 || l.parallel.engine)) {
    const all = await l.parallel.evalLogits(l, ranges.length, (k) => makeBatch(ds, split, range(...ranges[k])), forward, o);
    for (let k = 0; k < all.length; k++) await consume(k, all[k]);
    return;
  }
  for (let k = 0; k < ranges.length; k++) await consume(k, await forward(k));
}

export async function validate(l: Learner, ds: Dataset, split: Split, batchSize: number, stats?: PreciseStats): Promise<ValidationStats> {
  const D = l.net.maxDepth;
  let nll = 0;
  let correct = 0;
  let ll = 0;
  const logQ = l.posterior.logQ();
  await forEachBatchLogits(l, ds, split, batchSize, { upTo: D, heads: headsOf(l.posterior), stats }, async ({ size, logits, y }) => {
    const sums = tf.tidy(() => {
      const expected = tf.sum(tf.mul(tf.exp(logQ), nllPerDepth(logits, y)));
      const lp = marginalLogProbs(logits, logQ); // [B, C]
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(lp, 1), y), 'float32'));
      const trueLp = tf.sum(tf.mul(lp, tf.oneHot(y, lp.shape[1])));
      return tf.stack([tf.mul(expected, size), hits, trueLp]);
    });
    const [n, c, t] = await takeFloats(sums);
    nll += n;
    correct += c;
    ll += t;
  });
  logQ.dispose();
  const kl = await currentKl(l);
  const perSample = nll / split.n;
  const elbo = -(perSample + kl / l.nTrain);
  return { elbo, elboTotal: elbo * l.nTrain, nll: perSample, kl, accuracy: correct / split.n, logLikelihood: ll / split.n };
}

/** KL(q ‖ p) in nats for the learner's current q. */
export async function currentKl(l: Learner): Promise<number> {
  return (await takeFloats(tf.tidy(() => klDivergence(l.posterior.logQ(), l.logPrior))))[0];
}

export interface PredictorOutputs {
  labels: Int32Array;
  classes: number;
  marginal: Float32Array; // [n, C] log predictive over all computed depths
  perDepth: Float32Array[]; // [depth] → [n, C] log softmax of that depth alone (learnt: 0..D; fixed: just D)
  seconds: number; // wall time of the pass
}

/**
 * One pass over `split` with the network cut at `upTo` (blocks beyond are never run), predicting with q
 * truncated at `upTo`. With upTo = D this is the full network.
 */
export async function predictSplit(
  l: Learner,
  ds: Dataset,
  split: Split,
  batchSize: number,
  upTo: number,
  keepPerDepth: boolean,
  stats?: PreciseStats, // precise statistics (covering depths 0..upTo); the running ones when absent
): Promise<PredictorOutputs> {
  const C = l.net.classes;
  const labels = new Int32Array(split.n);
  const marginal = new Float32Array(split.n * C);
  const heads = headsOf(l.posterior);
  const nHeads = heads === 'all' ? upTo + 1 : 1;
  const perDepth = keepPerDepth ? Array.from({ length: nHeads }, () => new Float32Array(split.n * C)) : [];
  const logQ = tf.tidy(() => (heads === 'all' ? truncatedLogQ(l.posterior.logQ(), upTo) : l.posterior.logQ()));
  const t0 = performance.now();
  await forEachBatchLogits(l, ds, split, batchSize, { upTo, heads, stats }, async ({ start: s, size, logits, labels: batchLabels }) => {
    const [lp, per] = tf.tidy((): tf.Tensor[] => {
      const m = marginalLogProbs(logits, logQ); // [B, C]
      return keepPerDepth ? [m, tf.logSoftmax(logits)] : [m]; // [H, B, C]
    });
    marginal.set(await takeFloats(lp), s * C);
    labels.set(batchLabels, s);
    if (per) {
      const all = await takeFloats(per); // [H, B, C]
      const stride = size * C;
      for (let h = 0; h < nHeads; h++) perDepth[h].set(all.subarray(h * stride, (h + 1) * stride), s * C);
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  logQ.dispose();
  return { labels, classes: C, marginal, perDepth, seconds };
}
