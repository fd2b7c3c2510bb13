// How many data-parallel replicas a training run uses (data-parallel.ts). A speed setting with one
// visible effect: sums split in more parts round differently (~1e-7 relative per step), so the count is
// recorded with the run and a resumed run keeps it.
import { availableParallelism } from 'node:os';
import type { VdsConfig } from '../config/types.ts';
import { VdsError } from '../util/errors.ts';
import { trainBatchRanges } from './batches.ts';

/** Threads to train with: the option, else $VDS_THREADS (a sweep sets it for its children), else all cores. */
export function resolveThreads(threads?: number): number {
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) throw new VdsError(`threads must be a whole number ≥ 1, got ${threads}`, { key: '--threads' });
    return threads;
  }
  const env = process.env.VDS_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new VdsError(`VDS_THREADS must be a whole number ≥ 1, got "${env}"`, { key: 'VDS_THREADS' });
    return n;
  }
  return availableParallelism();
}

/**
 * Replicas for a run on `backend`: one per thread on wasm, where TF.js computes on one thread per
 * instance (libtensorflow and the GPU use every core themselves), and no more than the smallest training
 * batch has rows. Only the conv network: the toy fc network's steps are too small to gain from splitting.
 */
export function trainingReplicas(backend: string, config: VdsConfig, threads: number, smallestBatch: number): number {
  if (backend !== 'wasm' || config.model.kind !== 'conv') return 1;
  return Math.max(1, Math.min(threads, smallestBatch));
}

/** Rows of the smallest training batch of an epoch over nTrain examples. */
export function smallestTrainBatch(nTrain: number, batchSize: number): number {
  return Math.min(...trainBatchRanges(nTrain, batchSize).map(([s, e]) => e - s));
}
