// What every VDS network offers: one forward pass that returns the logits of every depth it is asked for.
import type { tf } from '../tf/tf.ts';
import type { BatchStats } from '../tf/batchnorm.ts';
import type { ParamStore } from './params.ts';
import type { PreciseStats } from './norm-stats.ts';

export interface ForwardOptions {
  training: boolean; // train mode: BatchNorm uses batch statistics and reports them
  upTo: number; // deepest block computed (0..maxDepth); blocks beyond are never run
  heads: 'all' | 'last'; // 'all': logits of every depth 0..upTo (learnt depth); 'last': only depth upTo (DDN)
  stats?: PreciseStats; // eval mode: normalise with these precise statistics (SPEC §8) instead of the running ones
  // train mode under a gradient tape: keep only each residual block's input and recompute the block in the
  // backward pass (activation checkpointing; memory per block ~8× smaller, step time +~35% measured). Same numbers.
  recompute?: boolean;
}

/** One BatchNorm application in train mode; the trainer folds these into the running statistics. */
export interface BatchStatsRecord {
  prefix: string; // e.g. 'blocks.3.bn2' or 'head.bn' (the head's appears once per depth, in depth order)
  depth?: number; // set for a BatchNorm that runs once per depth (the head's): the depth it ran at
  stats: BatchStats;
}

export interface ForwardResult {
  logits: tf.Tensor3D; // [H, B, C], H = upTo+1 for heads 'all', 1 for 'last'
  batchStats: BatchStatsRecord[]; // empty in eval mode
}

export interface Network {
  readonly kind: 'conv' | 'fc';
  readonly maxDepth: number; // D: residual blocks
  readonly classes: number;
  readonly store: ParamStore;
  forward(x: tf.Tensor, o: ForwardOptions): ForwardResult;
  /** Trainable weights (not α) of the network cut at `depth`: input block, blocks 1..depth, head. */
  paramCount(depth: number): number;
}
