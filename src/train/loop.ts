// The epoch loop: seeded shuffles, train steps, validation, early stopping on the validation ELBO.
// It knows nothing of files or terminals: it reports through hooks (progress, checkpoints, metrics), and
// its whole state is plain data, so a checkpoint taken between any two steps resumes exactly.
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { expectedDepth } from '../vds/posterior.ts';
import { pruneDepth } from '../vds/prune.ts';
import { tensorBatch, trainBatchRanges } from './batches.ts';
import { currentKl, validate, type ValidationStats } from './evaluate.ts';
import { calibrateLearner, calibrationPlan, setPreciseStats, statisticsSets } from './calibrate.ts';
import { trainStep, type Learner, type StepStats } from './step.ts';

export interface EpochRecord {
  epoch: number; // 1-based
  lr: number;
  trainLoss: number;
  trainNll: number;
  trainAcc: number;
  kl: number;
  val: ValidationStats | null; // with config.eval.statistics (drives early stopping); null without a validation split
  valBy: { precise: ValidationStats | null; running: ValidationStats | null }; // both, where computed
  calibrationSeconds: number; // precise statistics for this epoch's weights (0 when none are calibrated)
  q: number[];
  expectedDepth: number;
  pruneDepth: number;
  seconds: number;
}

interface EpochSums {
  loss: number; // Σ batch loss · batch size
  nll: number;
  correct: number;
  seen: number;
  seconds: number;
}

export interface TrainState {
  epoch: number; // epochs completed
  step: number; // batches done in the current epoch (0 at an epoch boundary)
  epochRng: RngState; // the shuffle stream as it was when the current epoch drew its permutation
  sums: EpochSums; // of the current, unfinished epoch
  best: { score: number; epoch: number } | null; // best validation ELBO so far
  sinceBest: number; // epochs since it improved
  stopReason: 'early-stopping' | 'max-epochs' | null;
  trainSeconds: number;
  history: EpochRecord[];
}

export function initialTrainState(seed: number): TrainState {
  return {
    epoch: 0,
    step: 0,
    epochRng: Rng.derive(seed, 'shuffle').state(),
    sums: { loss: 0, nll: 0, correct: 0, seen: 0, seconds: 0 },
    best: null,
    sinceBest: 0,
    stopReason: null,
    trainSeconds: 0,
    history: [],
  };
}

/** Step decay: lr · gamma^(number of milestones ≤ epoch index), identical for learnt and fixed depth. */
export function learningRate(train: VdsConfig['train'], epochIndex: number): number {
  return train.lr * train.lrGamma ** train.lrMilestones.filter((m) => m <= epochIndex).length;
}

export interface LoopHooks {
  onStep?(epoch: number, step: number, steps: number, stats: StepStats): void;
  /** After each epoch; `improved` when the validation ELBO reached a new best (checkpoint it). */
  onEpochEnd(record: EpochRecord, state: TrainState, improved: boolean): Promise<void>;
  /** Polled between steps; true stops the loop after the current step (Ctrl-C). */
  interrupted(): boolean;
}

export async function trainLoop(
  l: Learner,
  ds: Dataset,
  config: VdsConfig,
  state: TrainState,
  hooks: LoopHooks,
): Promise<'finished' | 'interrupted'> {
  const { train } = config;
  const ranges = trainBatchRanges(ds.train.n, train.batchSize);
  const plan = calibrationPlan(config, ds); // the same training rows every epoch (none: reference statistics only)
  while (state.stopReason === null) {
    if (state.epoch >= train.epochs) {
      state.stopReason = 'max-epochs';
      break;
    }
    l.opt.lr = learningRate(train, state.epoch);
    // the permutation is re-drawn from the saved stream state, so a resumed epoch sees the same order
    const rng = Rng.fromState(state.epochRng);
    const order = rng.permutation(ds.train.n);
    for (; state.step < ranges.length; state.step++) {
      if (hooks.interrupted()) return 'interrupted';
      const t0 = performance.now();
      const [s, e] = ranges[state.step];
      const b = tensorBatch(ds, ds.train, order.subarray(s, e));
      let stats: StepStats;
      try {
        stats = await trainStep(l, b.x, b.y);
      } finally {
        b.x.dispose();
        b.y.dispose();
      }
      const sums = state.sums;
      sums.loss += stats.loss * b.size;
      sums.nll += stats.expectedNll * b.size;
      sums.correct += stats.correct;
      sums.seen += b.size;
      sums.seconds += (performance.now() - t0) / 1000;
      hooks.onStep?.(state.epoch + 1, state.step + 1, ranges.length, stats);
      await new Promise((r) => setImmediate(r)); // let signals and progress output through
    }
    const t1 = performance.now();
    // precise statistics for this epoch's weights (kept on the learner, so checkpoints carry them)
    if (plan.length) setPreciseStats(l, await calibrateLearner(l, ds, plan));
    const calibrationSeconds = (performance.now() - t1) / 1000;
    const hasVal = ds.validation.n > 0;
    const valBy: EpochRecord['valBy'] = { precise: null, running: null };
    if (hasVal) for (const { kind, stats } of statisticsSets(l)) valBy[kind] = await validate(l, ds, ds.validation, train.evalBatchSize, stats);
    const val = valBy[config.eval.statistics];
    const q = await l.posterior.probs();
    const { sums } = state;
    const record: EpochRecord = {
      epoch: state.epoch + 1,
      lr: l.opt.lr,
      trainLoss: sums.loss / sums.seen,
      trainNll: sums.nll / sums.seen,
      trainAcc: sums.correct / sums.seen,
      kl: val ? val.kl : await currentKl(l),
      val,
      valBy,
      calibrationSeconds,
      q,
      expectedDepth: expectedDepth(q),
      pruneDepth: pruneDepth(q, config.prune),
      seconds: sums.seconds + (performance.now() - t1) / 1000,
    };
    // early stopping maximises the validation ELBO (the negative training loss without a validation split)
    const score = val ? val.elbo : -record.trainLoss;
    const improved = state.best === null || score > state.best.score;
    if (improved) state.best = { score, epoch: record.epoch };
    state.sinceBest = improved ? 0 : state.sinceBest + 1;
    state.epoch += 1;
    state.step = 0;
    state.epochRng = rng.state();
    state.sums = { loss: 0, nll: 0, correct: 0, seen: 0, seconds: 0 };
    state.trainSeconds += record.seconds;
    state.history.push(record);
    if (state.sinceBest >= train.patience) state.stopReason = 'early-stopping';
    await hooks.onEpochEnd(record, state, improved);
  }
  return 'finished';
}
