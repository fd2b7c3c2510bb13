// The epoch loop: seeded shuffles, train steps, validation, early stopping on the validation ELBO.
// It knows nothing of files or terminals: it reports through hooks (progress, checkpoints, metrics), and
// its whole state is plain data, so a checkpoint taken between any two steps resumes exactly.
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { Rng, type RngState } from '../util/rng.ts';
import { expectedDepth } from '../vds/posterior.ts';
import { pruneDepth } from '../vds/prune.ts';
import { tensorBatch, trainBatchRanges, type TensorBatch } from './batches.ts';
import { currentKl, validate, type ValidationStats } from './evaluate.ts';
import { calibrateLearner, calibrationPlan, setPreciseStats, statisticsSets } from './calibrate.ts';
import { trainStep, type Learner, type StepStats } from './step.ts';
import { firstNonFinite } from './learner.ts';
import { faultPoint } from '../util/fault.ts';

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

/** Where a run's wall-clock training time went, in seconds (they add up to trainSeconds). */
export interface TrainTiming {
  steps: number; // training steps, with the progress output and yields between them
  calibration: number; // precise BatchNorm statistics of each epoch's weights
  validation: number; // validation passes
  io: number; // the per-epoch writes: metrics.csv row, checkpoints, status.json
}

export interface TrainState {
  epoch: number; // epochs completed
  step: number; // batches done in the current epoch (0 at an epoch boundary)
  epochRng: RngState; // the shuffle stream as it was when the current epoch drew its permutation
  sums: EpochSums; // of the current, unfinished epoch
  best: { score: number; epoch: number } | null; // best validation ELBO so far
  bestRecord: EpochRecord | null; // that epoch's record (its validation numbers go into eval.json)
  sinceBest: number; // epochs since it improved
  stopReason: 'early-stopping' | 'max-epochs' | null;
  trainSeconds: number; // wall clock of the training loop, the per-epoch writes included
  timing: TrainTiming;
  // the per-epoch records live in metrics.csv (appended), not here: a checkpoint stays the same size all run
}

/** A checkpoint's state as this version keeps it (older ones carried the whole history and no timing). */
export function upgradeTrainState(s: TrainState & { history?: EpochRecord[] }): TrainState {
  const { history, ...rest } = s;
  return {
    ...rest,
    bestRecord: rest.bestRecord ?? (history && rest.best ? (history[rest.best.epoch - 1] ?? null) : null),
    timing: rest.timing ?? { steps: rest.trainSeconds, calibration: 0, validation: 0, io: 0 },
  };
}

export function initialTrainState(seed: number): TrainState {
  return {
    epoch: 0,
    step: 0,
    epochRng: Rng.derive(seed, 'shuffle').state(),
    sums: { loss: 0, nll: 0, correct: 0, seen: 0, seconds: 0 },
    best: null,
    bestRecord: null,
    sinceBest: 0,
    stopReason: null,
    trainSeconds: 0,
    timing: { steps: 0, calibration: 0, validation: 0, io: 0 },
  };
}

/**
 * Whether a stopped run has more to do under `train` (a resume that raised train.epochs or train.patience):
 * if so its stop is lifted, and training continues exactly where it stopped.
 */
export function reopen(state: TrainState, train: VdsConfig['train']): boolean {
  if (state.epoch >= train.epochs) return false;
  if (state.stopReason === 'early-stopping' && state.sinceBest >= train.patience) return false;
  state.stopReason = null;
  return true;
}

/** Step decay: lr · gamma^(number of milestones ≤ epoch index), identical for learnt and fixed depth. */
export function learningRate(train: VdsConfig['train'], epochIndex: number): number {
  return train.lr * train.lrGamma ** train.lrMilestones.filter((m) => m <= epochIndex).length;
}

/** Training produced a NaN or an infinity: the run fails here, naming where; its last checkpoint stays. */
export class TrainingDiverged extends Error {
  constructor(epoch: number, step: number, steps: number, what: string) {
    const kept = epoch > 1 ? `checkpoints/last.ckpt (epoch ${epoch - 1}) is kept` : 'no epoch had finished, so there is no checkpoint';
    super(`training diverged at epoch ${epoch}, step ${step} of ${steps}: ${what}; ${kept} (a smaller train.lr may help)`);
    this.name = 'TrainingDiverged';
  }
}

const fmtNum = (x: number): string => (Number.isFinite(x) ? x.toPrecision(4) : String(x));

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
  // wall clock, in parts: each tick adds the time since the last one to trainSeconds and to one part
  let mark = performance.now();
  const tick = (part: keyof TrainTiming): void => {
    const now = performance.now();
    const s = (now - mark) / 1000;
    state.timing[part] += s;
    state.trainSeconds += s;
    mark = now;
  };
  while (state.stopReason === null) {
    if (state.epoch >= train.epochs) {
      state.stopReason = 'max-epochs';
      break;
    }
    l.opt.lr = learningRate(train, state.epoch);
    // the permutation is re-drawn from the saved stream state, so a resumed epoch sees the same order
    const rng = Rng.fromState(state.epochRng);
    const order = rng.permutation(ds.train.n);
    // Steps in flight: one on TF.js (a step returns when it is done); two on an engine that trains on the GPU,
    // so the CPU encodes a step while the GPU computes the one before. Their numbers are settled in order.
    const depth = l.parallel?.engine ? 2 : 1;
    const inflight: { stats: Promise<StepStats>; batch: TensorBatch | null; size: number; index: number }[] = [];
    let settledAt = performance.now();
    const settle = async (): Promise<void> => {
      const f = inflight.shift()!;
      let stats: StepStats;
      try {
        stats = await f.stats;
      } finally {
        f.batch?.x.dispose();
        f.batch?.y.dispose();
      }
      // the loss is their sum: the term that went non-finite first names the cause
      const bad = ([['the expected NLL', stats.expectedNll], ['the KL term', stats.kl], ['the loss', stats.loss]] as const).find(([, v]) => !Number.isFinite(v));
      if (bad) {
        throw new TrainingDiverged(state.epoch + 1, f.index + 1, ranges.length, `${bad[0]} is ${fmtNum(bad[1])} (loss ${fmtNum(stats.loss)}, expected NLL ${fmtNum(stats.expectedNll)}, KL ${fmtNum(stats.kl)})`);
      }
      const sums = state.sums;
      sums.loss += stats.loss * f.size;
      sums.nll += stats.expectedNll * f.size;
      sums.correct += stats.correct;
      sums.seen += f.size;
      const now = performance.now();
      sums.seconds += (now - settledAt) / 1000;
      settledAt = now;
      faultPoint('step');
      hooks.onStep?.(state.epoch + 1, f.index + 1, ranges.length, stats);
    };
    for (; state.step < ranges.length; state.step++) {
      if (hooks.interrupted()) {
        while (inflight.length) await settle();
        await l.parallel?.pull?.(l); // the checkpoint that follows takes the learner's tensors
        return 'interrupted';
      }
      const [s, e] = ranges[state.step];
      // an engine that keeps the training split on the GPU takes the rows; otherwise the batch goes to TF.js
      const batch = l.parallel?.stepRows ? null : tensorBatch(ds, ds.train, order.subarray(s, e));
      const stats = batch ? trainStep(l, batch.x, batch.y) : l.parallel!.stepRows!(l, ds, order, s, e);
      stats.catch(() => undefined); // a step that fails while an earlier one settles is reported when its turn comes
      inflight.push({ stats, batch, size: e - s, index: state.step });
      while (inflight.length >= depth) await settle();
      await new Promise((r) => setImmediate(r)); // let signals and progress output through
      tick('steps');
    }
    while (inflight.length) await settle();
    // an engine that trains on the GPU hands the weights back once an epoch, for the checks and checkpoints
    await l.parallel?.pull?.(l);
    // a step can leave the weights non-finite with a finite loss (the update comes after it): checked once
    // an epoch, before anything is computed or saved from them
    const bad = await firstNonFinite(l);
    if (bad) throw new TrainingDiverged(state.epoch + 1, ranges.length, ranges.length, `${bad} is no longer finite after the update`);
    const t1 = performance.now();
    // precise statistics for this epoch's weights (kept on the learner, so checkpoints carry them)
    if (plan.length) setPreciseStats(l, await calibrateLearner(l, ds, plan));
    const calibrationSeconds = (performance.now() - t1) / 1000;
    tick('calibration');
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
    if (improved) {
      state.best = { score, epoch: record.epoch };
      state.bestRecord = record;
    }
    state.sinceBest = improved ? 0 : state.sinceBest + 1;
    state.epoch += 1;
    state.step = 0;
    state.epochRng = rng.state();
    state.sums = { loss: 0, nll: 0, correct: 0, seen: 0, seconds: 0 };
    if (state.sinceBest >= train.patience) state.stopReason = 'early-stopping';
    tick('validation');
    await hooks.onEpochEnd(record, state, improved);
    tick('io');
  }
  return 'finished';
}
