// Precise per-depth BatchNorm statistics (SPEC §8): for fixed weights, K seeded batches of the training
// split go through a train-mode forward pass without gradients (each BatchNorm normalises with its batch's
// own statistics, as in training); each BatchNorm then gets the equal-weight mean over batches of the
// per-batch mean and of the per-batch unbiased variance (fvcore's PreciseBN rule), and the shared head one
// pair per depth. Training is untouched: nothing here updates weights, running statistics or RNG streams.
import { tf } from '../tf/tf.ts';
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { PreciseStats, type Network, type NormStats } from '../model/index.ts';
import { Rng } from '../util/rng.ts';
import { tensorBatch } from './batches.ts';
import { headsOf, type Learner } from './step.ts';

/**
 * Row indices into the training split for K calibration batches: consecutive slices of seeded permutations
 * (a fresh permutation when one runs out), so no row repeats within a batch. The same batches serve every
 * epoch of a run: validation scores then move only with the weights, and a resumed run recalibrates exactly.
 */
export function calibrationIndices(n: number, batches: number, B: number, seed: number): Uint32Array[] {
  const rng = Rng.derive(seed, 'calibration');
  const out: Uint32Array[] = [];
  let perm = rng.permutation(n);
  let at = 0;
  for (let k = 0; k < batches; k++) {
    if (at + B > n) {
      perm = rng.permutation(n);
      at = 0;
    }
    out.push(perm.slice(at, at + B));
    at += B;
  }
  return out;
}

/** Rows per calibration batch: eval.calibrationBatchSize, else the training batch size (0: full batch), at most n. */
export function calibrationBatchRows(config: VdsConfig, n: number): number {
  const b = config.eval.calibrationBatchSize ?? config.train.batchSize;
  return Math.min(n, b > 0 ? b : n);
}

/** The calibration batches a config asks for, as indices into `ds.train` (never validation or test). */
export function calibrationPlan(config: VdsConfig, ds: Dataset): Uint32Array[] {
  return calibrationIndices(ds.train.n, config.eval.calibrationBatches, calibrationBatchRows(config, ds.train.n), config.seed);
}

interface Sums {
  mean: Float64Array;
  variance: Float64Array;
}

/**
 * Precise statistics of `net` cut at `upTo` from batches that `nextBatch(k)` builds (the caller's tensors;
 * disposed here). `heads` as in training: 'all' gives the head's statistics at every depth 0..upTo, 'last'
 * only at upTo (a fixed-depth network).
 */
export function calibrateNetwork(net: Network, heads: 'all' | 'last', upTo: number, batches: number, nextBatch: (k: number) => tf.Tensor): PreciseStats {
  if (batches < 1) throw new Error('precise statistics need at least one calibration batch');
  const sums = new Map<string, Sums>();
  for (let k = 0; k < batches; k++) {
    const x = nextBatch(k);
    try {
      // no gradient tape: intermediates die with the tidy; only plain numbers leave it
      const read = tf.tidy(() => {
        const { batchStats } = net.forward(x, { training: true, upTo, heads });
        return batchStats.map((r) => ({
          key: PreciseStats.key(r.prefix, r.depth),
          mean: r.stats.mean.dataSync() as Float32Array,
          variance: r.stats.variance.dataSync() as Float32Array,
          count: r.stats.count,
        }));
      });
      for (const r of read) {
        let s = sums.get(r.key);
        if (!s) sums.set(r.key, (s = { mean: new Float64Array(r.mean.length), variance: new Float64Array(r.mean.length) }));
        const unbiased = r.count / Math.max(1, r.count - 1);
        for (let c = 0; c < r.mean.length; c++) {
          s.mean[c] += r.mean[c];
          s.variance[c] += r.variance[c] * unbiased;
        }
      }
    } finally {
      x.dispose();
    }
  }
  const entries = new Map<string, NormStats>();
  for (const [key, s] of sums) {
    entries.set(key, {
      mean: tf.tensor1d(Float32Array.from(s.mean, (v) => v / batches)),
      variance: tf.tensor1d(Float32Array.from(s.variance, (v) => v / batches)),
    });
  }
  return new PreciseStats(entries);
}

/** Precise statistics of the learner's network (cut at `upTo`) from the config's calibration batches. */
export function calibrate(l: Learner, ds: Dataset, plan: Uint32Array[], upTo = l.net.maxDepth): PreciseStats {
  return calibrateNetwork(l.net, headsOf(l.posterior), upTo, plan.length, (k) => {
    const b = tensorBatch(ds, ds.train, plan[k]);
    b.y.dispose();
    return b.x;
  });
}

/** Replaces the learner's precise statistics (freeing the old ones). */
export function setPreciseStats(l: Learner, stats: PreciseStats | null): void {
  if (l.precise && l.precise !== stats) l.precise.dispose();
  l.precise = stats ?? undefined;
}
