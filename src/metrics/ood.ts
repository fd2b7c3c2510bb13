// Out-of-distribution helpers: predictive entropy as the score, AUROC of in- vs out-of-distribution scores.
import type { Matrix } from './classification.ts';

/** Entropy −Σ_k p_k log p_k (nats) of each row of log-probabilities [n, C]; terms with p_k = 0 count 0. */
export function predictiveEntropy(logProbs: Matrix, classes: number): Float64Array {
  const n = logProbs.length / classes;
  if (!Number.isInteger(n)) throw new RangeError(`length ${logProbs.length} is not a multiple of ${classes}`);
  const h = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < classes; k++) {
      const lp = logProbs[i * classes + k];
      if (lp > -Infinity) s -= Math.exp(lp) * lp;
    }
    h[i] = s;
  }
  return h;
}

/** Entropy of each row of probabilities [n, C]. */
export function entropyFromProbs(probs: Matrix, classes: number): Float64Array {
  const lp = new Float64Array(probs.length);
  for (let i = 0; i < lp.length; i++) lp[i] = Math.log(probs[i]);
  return predictiveEntropy(lp, classes);
}

/**
 * Area under the ROC curve for telling `positive` scores (e.g. OOD entropies) from `negative` ones, higher
 * score meaning "positive": the probability that a random positive outscores a random negative, ties ½
 * (Mann–Whitney U with mid-ranks).
 */
export function auroc(positive: ArrayLike<number>, negative: ArrayLike<number>): number {
  const P = positive.length;
  const N = negative.length;
  if (P === 0 || N === 0) throw new RangeError('AUROC needs at least one positive and one negative score');
  const all: { s: number; pos: boolean }[] = [];
  for (let i = 0; i < P; i++) all.push({ s: positive[i], pos: true });
  for (let i = 0; i < N; i++) all.push({ s: negative[i], pos: false });
  if (all.some((e) => Number.isNaN(e.s))) throw new RangeError('AUROC scores contain NaN');
  all.sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].s === all[i].s) j++;
    const midRank = (i + j) / 2 + 1; // ranks are 1-based
    for (let k = i; k <= j; k++) if (all[k].pos) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (P * (P + 1)) / 2) / (P * N);
}
