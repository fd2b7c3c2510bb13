// Evaluation in eval mode, with the reference's running BatchNorm statistics or, when `stats` is given,
// precise per-depth ones (SPEC §8). Validation gives the numbers early stopping needs; the final
// evaluation gives log-predictives of every predictor for the metrics (SPEC §6): the marginal over all
// depths, each single depth, and the network pruned at d*.
import { tf } from '../tf/tf.ts';
import type { Dataset, Split } from '../data/types.ts';
import { marginalLogProbs, truncatedLogQ } from '../vds/predict.ts';
import { klDivergence, nllPerDepth } from '../vds/objective.ts';
import { batchRanges, range, tensorBatch } from './batches.ts';
import { headsOf, type Learner } from './step.ts';
import type { PreciseStats } from '../model/index.ts';

export interface ValidationStats {
  elbo: number; // per sample: −(E_q[NLL] + KL/N_train)
  elboTotal: number; // elbo · N_train, nats
  nll: number; // E_q[NLL] per sample
  kl: number;
  accuracy: number; // marginal predictive
  logLikelihood: number; // marginal predictive, per sample
}

export function validate(l: Learner, ds: Dataset, split: Split, batchSize: number, stats?: PreciseStats): ValidationStats {
  const D = l.net.maxDepth;
  let nll = 0;
  let correct = 0;
  let ll = 0;
  for (const [s, e] of batchRanges(split.n, batchSize)) {
    const b = tensorBatch(ds, split, range(s, e));
    const sums = tf.tidy(() => {
      const { logits } = l.net.forward(b.x, { training: false, upTo: D, heads: headsOf(l.posterior), stats });
      const logQ = l.posterior.logQ();
      const expected = tf.sum(tf.mul(tf.exp(logQ), nllPerDepth(logits, b.y)));
      const lp = marginalLogProbs(logits, logQ); // [B, C]
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(lp, 1), b.y), 'float32'));
      const trueLp = tf.sum(tf.mul(lp, tf.oneHot(b.y, lp.shape[1])));
      return tf.stack([tf.mul(expected, b.size), hits, trueLp]);
    });
    const [n, c, t] = sums.dataSync();
    sums.dispose();
    b.x.dispose();
    b.y.dispose();
    nll += n;
    correct += c;
    ll += t;
  }
  const kl = currentKl(l);
  const perSample = nll / split.n;
  const elbo = -(perSample + kl / l.nTrain);
  return { elbo, elboTotal: elbo * l.nTrain, nll: perSample, kl, accuracy: correct / split.n, logLikelihood: ll / split.n };
}

/** KL(q ‖ p) in nats for the learner's current q. */
export function currentKl(l: Learner): number {
  return tf.tidy(() => klDivergence(l.posterior.logQ(), l.logPrior).dataSync()[0]);
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
export function predictSplit(
  l: Learner,
  ds: Dataset,
  split: Split,
  batchSize: number,
  upTo: number,
  keepPerDepth: boolean,
  stats?: PreciseStats, // precise statistics (covering depths 0..upTo); the running ones when absent
): PredictorOutputs {
  const C = l.net.classes;
  const labels = new Int32Array(split.n);
  const marginal = new Float32Array(split.n * C);
  const heads = headsOf(l.posterior);
  const nHeads = heads === 'all' ? upTo + 1 : 1;
  const perDepth = keepPerDepth ? Array.from({ length: nHeads }, () => new Float32Array(split.n * C)) : [];
  const logQ = tf.tidy(() => (heads === 'all' ? truncatedLogQ(l.posterior.logQ(), upTo) : l.posterior.logQ()));
  const t0 = performance.now();
  for (const [s, e] of batchRanges(split.n, batchSize)) {
    const b = tensorBatch(ds, split, range(s, e));
    const [lp, per] = tf.tidy((): tf.Tensor[] => {
      const { logits } = l.net.forward(b.x, { training: false, upTo, heads, stats });
      const m = marginalLogProbs(logits, logQ); // [B, C]
      return keepPerDepth ? [m, tf.logSoftmax(logits)] : [m]; // [H, B, C]
    });
    marginal.set(lp.dataSync() as Float32Array, s * C);
    labels.set(b.y.dataSync() as Int32Array, s);
    if (per) {
      const all = per.dataSync() as Float32Array; // [H, B, C]
      const stride = b.size * C;
      for (let h = 0; h < nHeads; h++) perDepth[h].set(all.subarray(h * stride, (h + 1) * stride), s * C);
      per.dispose();
    }
    lp.dispose();
    b.x.dispose();
    b.y.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  logQ.dispose();
  return { labels, classes: C, marginal, perDepth, seconds };
}
