// What the training modules share: the learner (network, q, optimiser and what training attaches to it),
// a step's numbers, and the shapes the data-parallel trainer exchanges. Kept apart so that step.ts,
// calibrate.ts and evaluate.ts each depend on this file and never on one another in a circle.
import type { BatchStatsRecord, Network, PreciseStats } from '../model/index.ts';
import type { DepthPosterior } from '../vds/posterior.ts';
import type { Sgd } from './sgd.ts';
import type { Dataset } from '../data/types.ts';
import type { Batch } from '../data/batch.ts';
import type { tf } from '../tf/tf.ts';

export interface Learner {
  net: Network;
  posterior: DepthPosterior;
  opt: Sgd;
  logPrior: tf.Tensor1D; // over the heads the forward computes ([D+1] learnt, [1] fixed: [0])
  nTrain: number; // N in KL/N: the size of the training split
  parallel?: ParallelTrainer; // set while data-parallel training runs: trainStep hands the batch to it
  precise?: PreciseStats; // precise BatchNorm statistics of the current weights (SPEC §8), when calibrated
  recompute?: boolean; // activation checkpointing in the train step (memory.ts decides; same numbers)
}

export interface ParallelTrainer {
  readonly size: number; // replicas, this thread included
  readonly engine?: string; // vds's own GPU engine (src/engine): it holds the weights while it trains
  step(l: Learner, x: tf.Tensor, y: tf.Tensor1D): Promise<StepStats>;
  /** A step on rows order[start..end) of ds.train, where the trainer keeps the split itself (the GPU engine). */
  stepRows?(l: Learner, ds: Dataset, order: Uint32Array, start: number, end: number): Promise<StepStats>;
  /** Per-batch train-mode BatchNorm statistics of the calibration batches `plan` (rows of ds.train), in order. */
  batchStatistics?(l: Learner, ds: Dataset, plan: Uint32Array[]): Promise<BatchStatistics[]>;
  /** Eval-mode logits of `count` batches (`batch(k)`; `forwardHere(k)` computes one on this thread), in order. */
  evalLogits?(l: Learner, count: number, batch: (k: number) => Batch, forwardHere: (k: number) => Promise<Float32Array>, o: EvalPass): Promise<Float32Array[]>;
  /** Copies l's tensors to the trainer (after a checkpoint was loaded into l). */
  sync?(l: Learner): Promise<void>;
  /** Hands the trainer's weights, statistics and momentum back to l (an engine that keeps them on the GPU). */
  pull?(l: Learner): Promise<void>;
  close?(): Promise<void>;
}

export interface StepStats {
  loss: number;
  expectedNll: number;
  kl: number;
  correct: number; // marginal-predictive hits in this batch
}

/** One calibration batch's statistics: per BatchNorm (and per depth for the head) its mean and unbiased variance. */
export type BatchStatistics = { key: string; mean: Float32Array; variance: Float32Array }[];

/** One eval-mode pass: blocks up to `upTo`, which heads, and which BatchNorm statistics (precise, else running). */
export interface EvalPass {
  upTo: number;
  heads: 'all' | 'last';
  stats?: PreciseStats;
}

export const headsOf = (posterior: DepthPosterior): 'all' | 'last' => (posterior.learnt ? 'all' : 'last');
