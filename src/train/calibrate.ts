// Precise per-depth BatchNorm statistics (SPEC §8): for fixed weights, K seeded batches of the training
// split go through a train-mode forward pass without gradients (each BatchNorm normalises with its batch's
// own statistics, as in training); each BatchNorm then gets the equal-weight mean over batches of the
// per-batch mean and of the per-batch unbiased variance (fvcore's PreciseBN rule), and the shared head one
// pair per depth. Training is untouched: nothing here updates weights, running statistics or RNG streams.
import { tf, takeFloats } from '../tf/tf.ts';
import type { StatisticsKind, VdsConfig } from '../config/types.ts';
import { STATISTICS } from '../config/schema.ts';
import type { Dataset } from '../data/types.ts';
import { PreciseStats, type Network, type NormStats } from '../model/index.ts';
import { Rng } from '../util/rng.ts';
import { tensorBatch } from './batches.ts';
import { headsOf, type BatchStatistics, type Learner } from './types.ts';

export type { BatchStatistics } from './types.ts';
import { pulse } from '../util/pulse.ts';
import { faultPoint } from '../util/fault.ts';

/**
 * Row indices into the training split for K calibration batches: consecutive slices of seeded permutations
 * (a fresh permutation when one runs out), so no row repeats within a batch. The same batches serve every
 * epoch of a run: validation scores then move only with the weights, and a resumed run recalibrates exactly.
 */
export function calibrationIndices(n: number, batches: number, B: number, seed: number): Uint32Array[] {
  // a batch of the whole training split (full-batch training) has the same statistics however often it is drawn
  if (B >= n) batches = Math.min(batches, 1);
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

/**
 * The train-mode statistics of one batch through `net` cut at `upTo`, without gradients (no tape:
 * intermediates die with the tidy; only the statistics leave it, as one flat tensor read in one go). `heads`
 * as in training: 'all' records the head at every depth 0..upTo, 'last' only at upTo (a fixed-depth network).
 */
export async function batchStatistics(net: Network, heads: 'all' | 'last', upTo: number, x: tf.Tensor): Promise<BatchStatistics> {
  const layout: { key: string; C: number; unbiased: number }[] = [];
  const flat = tf.tidy(() => {
    const { batchStats } = net.forward(x, { training: true, upTo, heads });
    for (const r of batchStats) {
      layout.push({ key: PreciseStats.key(r.prefix, r.depth), C: r.stats.mean.size, unbiased: r.stats.count / Math.max(1, r.stats.count - 1) });
    }
    // a network without BatchNorm (an fc network of depth 0) has no statistics to calibrate
    return batchStats.length ? tf.concat(batchStats.flatMap((r) => [r.stats.mean, r.stats.variance])) : tf.zeros([0]);
  });
  const values = await takeFloats(flat);
  let at = 0;
  return layout.map(({ key, C, unbiased }) => {
    const mean = values.slice(at, at + C);
    const variance = Float32Array.from(values.subarray(at + C, at + 2 * C), (v) => v * unbiased);
    at += 2 * C;
    return { key, mean, variance };
  });
}

/** Equal-weight means over batches, accumulated in float64 in batch order (so any split of the work agrees). */
export function averageStatistics(perBatch: BatchStatistics[]): PreciseStats {
  if (perBatch.length < 1) throw new Error('precise statistics need at least one calibration batch');
  const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
  for (const batch of perBatch) {
    for (const r of batch) {
      let s = sums.get(r.key);
      if (!s) sums.set(r.key, (s = { mean: new Float64Array(r.mean.length), variance: new Float64Array(r.mean.length) }));
      for (let c = 0; c < r.mean.length; c++) {
        s.mean[c] += r.mean[c];
        s.variance[c] += r.variance[c];
      }
    }
  }
  const K = perBatch.length;
  const entries = new Map<string, NormStats>();
  for (const [key, s] of sums) {
    entries.set(key, { mean: tf.tensor1d(Float32Array.from(s.mean, (v) => v / K)), variance: tf.tensor1d(Float32Array.from(s.variance, (v) => v / K)) });
  }
  return new PreciseStats(entries);
}

/** batchStatistics of each of `batches` batches that `nextBatch(k)` builds (each disposed once measured). */
export async function statisticsOfBatches(net: Network, heads: 'all' | 'last', upTo: number, batches: number, nextBatch: (k: number) => tf.Tensor): Promise<BatchStatistics[]> {
  const perBatch: BatchStatistics[] = [];
  for (let k = 0; k < batches; k++) {
    pulse();
    faultPoint('calibration');
    const x = nextBatch(k);
    try {
      perBatch.push(await batchStatistics(net, heads, upTo, x));
    } finally {
      x.dispose();
    }
  }
  return perBatch;
}

/** Precise statistics of `net` cut at `upTo` from the batches `nextBatch(k)` builds (disposed here). */
export async function calibrateNetwork(net: Network, heads: 'all' | 'last', upTo: number, batches: number, nextBatch: (k: number) => tf.Tensor): Promise<PreciseStats> {
  return averageStatistics(await statisticsOfBatches(net, heads, upTo, batches, nextBatch));
}

/** Precise statistics of the learner's whole network from the config's calibration batches. */
export function calibrate(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<PreciseStats> {
  return calibrateNetwork(l.net, headsOf(l.posterior), l.net.maxDepth, plan.length, (k) => calibrationBatch(ds, plan[k]));
}

/** The normalised images of one calibration batch (the caller disposes it). */
export function calibrationBatch(ds: Dataset, rows: Uint32Array): tf.Tensor {
  const b = tensorBatch(ds, ds.train, rows);
  b.y.dispose();
  return b.x;
}

/**
 * As `calibrate`, on every data-parallel replica while training runs on several: the batches are dealt out
 * round-robin and each replica computes its batches' statistics; averaging in batch order makes the result
 * equal to one thread's, bit for bit.
 */
export async function calibrateLearner(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<PreciseStats> {
  if (!l.parallel?.batchStatistics) return calibrate(l, ds, plan);
  return averageStatistics(await l.parallel.batchStatistics(l, ds, plan));
}

/** The sets of statistics the learner can be evaluated with: precise (once calibrated), then the running ones. */
export function statisticsSets(l: Learner): { kind: StatisticsKind; stats: PreciseStats | undefined }[] {
  return STATISTICS.filter((k) => k === 'running' || l.precise).map((kind) => ({ kind, stats: kind === 'precise' ? l.precise : undefined }));
}

/** Replaces the learner's precise statistics (freeing the old ones). */
export function setPreciseStats(l: Learner, stats: PreciseStats | null): void {
  if (l.precise && l.precise !== stats) l.precise.dispose();
  l.precise = stats ?? undefined;
}
