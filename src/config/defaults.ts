// Every default, declared once, with the reason for it. A config file (or `--set`) only states what differs.
import type { VdsConfig } from './types.ts';

export function defaultConfig(): VdsConfig {
  return {
    experiment: 'default', // runs land in <resultsDir>/default/<run-id>/ unless named
    seed: 0, // every run is seeded (the reference's were not); 0 is as good as any
    backend: 'auto', // tfjs-node-gpu → tfjs-node → wasm → cpu: the fastest that loads on this machine
    resultsDir: 'results', // relative to the working directory, like most CLIs' output dirs
    data: {
      name: 'mnist', // the paper's first dataset
      dir: null, // null: $VDS_DATA_DIR, else ./datasets
      validationFraction: 0.1, // SPEC §5: early stopping on a seeded 10% hold-out, never on the test set
      limit: null, // use the whole training split
      testLimit: null, // evaluate on the whole test split
      classes: null, // built-in datasets know theirs; idx files infer it from the labels unless told
      paths: {}, // only for name: idx | mat
      extra: false, // SVHN's `extra` split is unused in the paper
      spirals: {
        points: 2000, // SPEC §5 toy problem
        arms: 2, // two interleaved spirals
        maxAngleDeg: 720, // two full turns
        noise: 0.2, // reference noise level
        trainFraction: 0.1, // 200 training points, 1800 test: the toy is meant to be data-poor
      },
    },
    model: {
      kind: 'conv', // the VDS ResNet; derived as 'fc' for vector data (spirals) unless set
      method: 'learnt', // the paper's method; 'fixed' is the deterministic-depth baseline
      maxDepth: 10, // D = 10 blocks: a middle point of the paper's scan, quick enough on a CPU
      outerWidth: 64, // reference channels between blocks
      innerWidth: 32, // reference bottleneck channels
      width: 20, // reference fc width for spirals
    },
    prior: {
      kind: 'geometric', // the reference prior favours shallow networks
      decay: 0.85, // p(d) ∝ 0.85^d (reference)
    },
    train: {
      lr: 0.1, // reference SGD learning rate
      momentum: 0.5, // reference; DUN later used 0.9
      weightDecay: 0, // reference: none
      lrMilestones: [], // reference: constant lr; learnt and fixed depth always share one schedule
      lrGamma: 0.1, // the usual step decay, only used with milestones
      batchSize: 512, // reference; 0 = full batch
      epochs: 500, // reference upper bound; early stopping usually ends runs sooner
      patience: 30, // reference: epochs without a better validation ELBO before stopping
      evalBatchSize: 1000, // memory only: results do not depend on it
    },
    prune: {
      rule: 'threshold', // the paper's rule
      threshold: 0.95, // d* = smallest d with q_d > 0.95 · max q (paper)
    },
    eval: {
      // SPEC §8: the reference's running head statistics mix every depth and lag the weights; precise
      // per-depth ones show what the trained network predicts. 'running' gives the reference's protocol.
      statistics: 'precise',
      calibrationBatches: 10, // K: accuracy/LL flat from K = 1 on the quickstart; ~0.6 s an epoch there (README, "Precise BatchNorm statistics")
      calibrationBatchSize: null, // the training batch size: the statistics BatchNorm saw in training
    },
  };
}
