// What a run directory `results/<experiment>/<run-id>/` holds. Training writes it, `vds prune` adds to it,
// `vds report` only reads it. Every file is written to a temp name and renamed, so none is ever half-written.

import type { WebGpuAdapterInfo } from '../tf/webgpu.ts';

import type { Spread } from '../util/timing.ts';
export const RUN_FILES = {
  config: 'config.yaml', // the resolved config (after defaults and --set), as YAML
  env: 'env.json', // EnvRecord
  status: 'status.json', // RunStatus, rewritten on every state change
  metrics: 'metrics.csv', // one row per epoch: EPOCH_COLUMNS then q_0..q_D
  eval: 'eval.json', // EvalRecord, written once at the end of training
  prune: 'prune.json', // PruneRecord, written by `vds prune`
  robustness: 'robustness.json', // RobustnessRecord, written by `vds eval` (DUN protocol: OOD, rotations)
  checkpoints: 'checkpoints', // last.ckpt (resume), best.ckpt (best validation ELBO), pruned.ckpt
} as const;

export interface EnvRecord {
  vdsVersion: string;
  tfjsVersion: string;
  backend: string; // the backend actually used
  gpu: boolean;
  backendNotes: string[]; // why earlier backends were skipped
  webgpu?: WebGpuAdapterInfo & { summary: string }; // backend webgpu: the adapter, its limits, how it was chosen (VDS_WEBGPU_ADAPTER)
  engine?: string; // 'vds-webgpu': vds's own WebGPU engine trained the network (backend webgpu); absent: TF.js did
  replicas?: number; // data-parallel replicas that trained (and evaluated) it (train/parallelism.ts)
  recompute?: boolean; // residual blocks recomputed in the backward pass (train/memory.ts; same numbers)
  memory?: { rows: number; plainBytes: number; recomputeBytes: number; limit: string }; // the step's estimated peak per replica
  seed: number;
  gitCommit: string | null;
  node: string;
  platform: string;
  cpus: number;
  startedAt: string; // ISO 8601
  endedAt: string | null;
  resumedAt: string[]; // ISO times of each resume
  configChanges?: { at: string; changed: Record<string, [unknown, unknown]> }[]; // resumes that changed train.epochs/patience (old, new)
  argv: string[];
  scheduler?: SchedulerRecord; // when a scheduler (vds sweep --launcher slurm) ran it
}

/** The scheduler job that trains a run: the latest, and every start of it (requeues included). */
export interface SchedulerRecord {
  launcher: string; // 'slurm'
  jobId: string; // the latest job, e.g. "4117_3" (array 4117, task 3)
  restarts: number; // how often the scheduler had restarted that job when it last started
  attempts: { jobId: string; restarts: number; host: string; gpus: string | null; startedAt: string }[];
}

export type RunState = 'running' | 'interrupted' | 'finished' | 'failed';

export interface RunStatus {
  state: RunState;
  epoch: number; // epochs completed
  message?: string; // failure reason
  updatedAt: string;
}

/** Columns of metrics.csv, before q_0..q_D. Per-sample quantities are in nats. */
export const EPOCH_COLUMNS = [
  'epoch',
  'lr',
  'train_loss', // mean over batches of the minibatch objective E_q[NLL] + KL/N
  'train_nll', // E_q[NLL] per sample
  'train_acc', // marginal accuracy on training batches (train-mode BN)
  'val_elbo', // per sample: -(E_q[NLL] + KL/N_train); early stopping maximises it
  'val_elbo_total', // val_elbo · N_train (nats)
  'val_nll',
  'val_acc', // marginal predictive
  'val_ll', // marginal predictive log-likelihood per sample
  'kl', // KL(q‖p) in nats
  'expected_depth', // E_q[d]
  'prune_depth', // d* under the configured rule
  'epoch_seconds',
  // both sets of BatchNorm statistics (the val_* columns above use eval.statistics); empty where not computed
  'val_elbo_precise',
  'val_acc_precise',
  'val_ll_precise',
  'val_elbo_running',
  'val_acc_running',
  'val_ll_running',
  'calibration_seconds',
] as const;

/** Predictive quality of one predictor on one split; all plain numbers. */
export interface PredictiveMetrics {
  n: number;
  accuracy: number;
  error: number;
  logLikelihood: number; // mean log p(y|x), nats
  ece10: number; // top-label ECE, 10 equal-width bins (Guo et al. 2017)
  ece15: number;
  brier: number; // mean Σ_k (p_k − 1[y=k])², range 0–2
  reliability10: ReliabilityBin[];
  reliability15: ReliabilityBin[];
}

export interface ReliabilityBin {
  lower: number;
  upper: number;
  count: number;
  confidence: number; // mean top-label confidence in the bin (0 when empty)
  accuracy: number; // accuracy in the bin (0 when empty)
}

/** Every predictor's test numbers, and the validation numbers, under one set of BatchNorm statistics. */
export interface EvalPredictors {
  marginal: PredictiveMetrics; // LDN-full (for fixed: the DDN itself)
  pruned: PredictiveMetrics & { depth: number; params: number }; // LDN at d* (for fixed: same as marginal)
  perDepth: (PredictiveMetrics & { depth: number })[]; // each single depth d (fixed: only d = D)
  validation: { elbo: number; nll: number; accuracy: number; logLikelihood: number };
}

import type { StatisticsKind } from '../config/types.ts';
export type { StatisticsKind };

export interface EvalRecord {
  vdsVersion: string;
  /**
   * The BatchNorm statistics that drove early stopping and model selection, and that the top-level
   * marginal / pruned / perDepth / validation hold (absent in runs written before precise statistics:
   * those are the reference's running statistics).
   */
  statistics?: StatisticsKind;
  byStatistics?: Partial<Record<StatisticsKind, EvalPredictors>>; // both sets (precise absent when K = 0)
  calibration?: { batches: number; batchSize: number } | null; // precise statistics' calibration (SPEC §8)
  split: 'test';
  method: 'learnt' | 'fixed';
  maxDepth: number;
  q: number[]; // learnt posterior over depth 0..D (one-hot for fixed)
  expectedDepth: number;
  pruneDepth: number; // d* under config.prune
  bestEpoch: number; // epoch whose weights are evaluated (best validation ELBO)
  epochsRun: number;
  trainSeconds: number; // wall clock of training, the per-epoch writes included (vds ≥ 0.3; before: steps and validation only)
  trainTiming?: { steps: number; calibration: number; validation: number; io: number }; // where trainSeconds went
  params: number; // weights + α of the full network
  marginal: PredictiveMetrics; // LDN-full (for fixed: the DDN itself), with `statistics`
  pruned: PredictiveMetrics & { depth: number; params: number }; // LDN at d* (for fixed: same as marginal)
  perDepth: (PredictiveMetrics & { depth: number })[]; // each single depth d (fixed: only d = D)
  validation: { elbo: number; nll: number; accuracy: number; logLikelihood: number };
  evalSeconds: { full: number; pruned: number }; // wall time of one pass over the test split
  evalReplicas?: number; // data-parallel replicas the test passes ran on (each batch whole on one: same numbers)
}

/** prune.json: full vs pruned network on the test split, written by `vds prune`. */
export interface PruneRecord {
  vdsVersion: string;
  statistics?: StatisticsKind; // what full.metrics and pruned.metrics use (absent before precise statistics: running)
  byStatistics?: Partial<Record<StatisticsKind, { full: PredictiveMetrics; pruned: PredictiveMetrics }>>;
  rule: 'threshold' | 'expected';
  threshold: number | null; // null for rule 'expected'
  depth: number; // d*
  q: number[]; // the learnt posterior over 0..D
  configDepth?: number; // d* under the run's own prune rule (eval.json's), when `rule` is another one
  full: { metrics: PredictiveMetrics; params: number; evalSeconds: number; depth: number; timing?: Spread };
  pruned: { metrics: PredictiveMetrics; params: number; evalSeconds: number; depth: number; timing?: Spread };
  nothingPruned?: boolean; // d* = D: the pruned network is the full one, and there is no speed-up to measure
  // full / pruned evaluation time over the test split: the median of repeated, interleaved passes (vds ≥ 0.3;
  // before: one pass each), null when nothing was pruned
  speedupVsFull: number | null;
  speedupVsFixed: number | null; // fixed-depth network of depth D (when the results hold one) / pruned
  speedups?: { vsFull: Spread | null; vsFixed: Spread | null }; // the per-round ratios' median and range
  fixedRunDir: string | null;
  evaluatedExamples: number;
}

/** Out-of-distribution detection: the run's test split (negatives) against another dataset's (positives). */
export interface OodResult {
  target: string; // the OOD dataset, normalised with the run's own constants
  auroc: number; // predictive entropy as the score, OOD as the positive class
  nIn: number;
  nOut: number;
  entropyIn: number; // mean predictive entropy (nats)
  entropyOut: number;
}

/** The test split rotated counter-clockwise by `degrees` (bilinear resampling). */
export interface RotationResult {
  degrees: number;
  accuracy: number;
  logLikelihood: number;
  ece10: number;
  ece15: number;
  brier: number;
}

/** robustness.json: the DUN protocol's checks on the full marginal of a run's best weights. */
export interface RobustnessRecord {
  vdsVersion: string;
  statistics: StatisticsKind; // what `ood` and `rotations` use (the run's eval.statistics)
  byStatistics: Partial<Record<StatisticsKind, { ood: OodResult[]; rotations: RotationResult[] }>>;
  ood: OodResult[];
  rotations: RotationResult[];
  updatedAt: string;
}
