// One training run with its run directory: checkpoints every epoch (last.ckpt) and at every new best
// validation ELBO (best.ckpt), metrics.csv, status.json, and at the end the test evaluation (eval.json)
// with the best weights. A run resumed from last.ckpt ends with the same numbers as an uninterrupted one.
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { VdsConfig } from '../config/types.ts';
import type { Dataset } from '../data/types.ts';
import { createLearner, disposeLearner, learnerTensors, restoreLearner } from '../train/learner.ts';
import { initialTrainState, reopen, trainLoop, upgradeTrainState, type EpochRecord, type LoopHooks, type TrainState } from '../train/loop.ts';
import type { Learner, ParallelTrainer, StepStats } from '../train/step.ts';
import { DataParallelTrainer } from '../train/data-parallel.ts';
import { ENGINE_NAME } from '../engine/name.ts';
import { tf } from '../tf/tf.ts';
import { VDS_VERSION } from '../util/version.ts';
import { VdsError } from '../util/errors.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { finalEvaluation } from './final-eval.ts';
import { ensurePrecise, useEngine } from './trained.ts';
import { RUN_FILES, type EvalRecord } from './layout.ts';
import { appendMetricsRow, keepMetricsRows, writeJson, writeStatus } from './run-dir.ts';

export const checkpointPath = (runDir: string, which: 'last' | 'best' | 'pruned'): string =>
  path.join(runDir, RUN_FILES.checkpoints, `${which}.ckpt`);

export interface RunEvents {
  onStep?(epoch: number, step: number, steps: number, stats: StepStats): void;
  onEpoch?(record: EpochRecord, state: TrainState): void;
  interrupted(): boolean;
}

export type RunOutcome = { state: 'finished'; eval: EvalRecord } | { state: 'interrupted'; epoch: number; step: number; message: string };

/**
 * Where a stopped run stands, for status.json and the terminal alike: stopped between epochs (step 0) the
 * checkpoint resumes at the next epoch's start; stopped inside one, at the step after the last one done.
 */
export function stoppedMessage(epoch: number, step: number): string {
  return step === 0
    ? `stopped after epoch ${epoch} (${epoch} epoch(s) complete); the checkpoint resumes at the start of epoch ${epoch + 1}`
    : `stopped in epoch ${epoch + 1} after its step ${step} (${epoch} epoch(s) complete); the checkpoint resumes at step ${step + 1} of epoch ${epoch + 1}`;
}

async function saveTrainCheckpoint(file: string, l: Learner, config: VdsConfig, state: TrainState): Promise<void> {
  await writeCheckpoint(file, { vdsVersion: VDS_VERSION, kind: 'train', config, state }, await learnerTensors(l));
}

/** The first line of an error's message, for status.json and the short report of a failed run. */
export function failureReason(e: unknown): string {
  const text = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  return text.split('\n')[0].slice(0, 500);
}

/** How a run computes: neither changes its numbers beyond float rounding (replicas) or at all (recompute). */
export interface Compute {
  replicas: number; // data-parallel replicas (wasm)
  recompute?: boolean; // activation checkpointing (train/memory.ts)
  engine?: boolean; // vds's WebGPU engine trains and evaluates (backend webgpu, a network it covers)
}

/** Trains (from scratch, or from `runDir`'s last.ckpt when `resume` and there is one), then evaluates on the test split. */
export async function executeRun(
  config: VdsConfig,
  ds: Dataset,
  runDir: string,
  resume: boolean,
  compute: Compute,
  events: RunEvents,
): Promise<RunOutcome> {
  const { replicas } = compute;
  const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
  l.recompute = compute.recompute ?? false;
  let parallel: ParallelTrainer | null = null;
  let state = initialTrainState(config.seed);
  let started = false; // status.json says "running": a failure from here on must say "failed"
  try {
    if (resume && !existsSync(checkpointPath(runDir, 'last'))) {
      // stopped before its first checkpoint: it starts again, and a row it may have written goes
      await keepMetricsRows(runDir, 0);
    } else if (resume) {
      const file = checkpointPath(runDir, 'last');
      const ckpt = readCheckpoint<TrainState>(file);
      restoreLearner(l, ckpt, file);
      state = upgradeTrainState(ckpt.header.state);
      reopen(state, config.train); // a finished run with more epochs (or patience) allowed goes on
      // rows past the checkpoint (or a half-written last row) are dropped: those epochs run again, identically
      await keepMetricsRows(runDir, state.epoch);
    }
    await writeStatus(runDir, 'running', state.epoch);
    started = true;
    const hooks: LoopHooks = {
      onStep: events.onStep,
      interrupted: events.interrupted,
      async onEpochEnd(record, st, improved) {
        // the row before the checkpoint: a crash between them leaves a row that the resume drops and redoes
        await appendMetricsRow(runDir, record, config.model.maxDepth);
        if (improved) await saveTrainCheckpoint(checkpointPath(runDir, 'best'), l, config, st);
        await saveTrainCheckpoint(checkpointPath(runDir, 'last'), l, config, st);
        await writeStatus(runDir, 'running', st.epoch);
        events.onEpoch?.(record, st);
      },
    };
    if (compute.engine) {
      parallel = (await useEngine(l, ds, ENGINE_NAME)).parallel ?? null;
    } else if (replicas > 1 && state.stopReason === null) {
      try {
        parallel = await DataParallelTrainer.start(l, config, ds, tf.getBackend(), replicas);
      } catch (e) {
        throw new VdsError(`could not start ${replicas - 1} training worker thread(s): ${e instanceof Error ? e.message : String(e)}`, {
          key: '--threads',
          hint: 'train on one thread with --threads 1 (or VDS_THREADS=1)',
        });
      }
      l.parallel = parallel;
    }
    const outcome = await trainLoop(l, ds, config, state, hooks);
    if (outcome === 'interrupted') {
      l.parallel = undefined;
      await saveTrainCheckpoint(checkpointPath(runDir, 'last'), l, config, state);
      const message = stoppedMessage(state.epoch, state.step);
      await writeStatus(runDir, 'interrupted', state.epoch, message);
      return { state: 'interrupted', epoch: state.epoch, step: state.step, message };
    }
    // evaluate the weights of the best validation epoch (early stopping), not the last ones
    const bestFile = checkpointPath(runDir, 'best');
    if (existsSync(bestFile)) restoreLearner(l, readCheckpoint(bestFile), bestFile, false);
    // the best checkpoint carries the precise statistics its validation used; calibrate if it has none
    await ensurePrecise(l, config, ds);
    // the test pass runs on the training replicas (or the engine) too: they take the best weights first
    await parallel?.sync?.(l);
    const bestEpoch = state.best?.epoch ?? state.epoch;
    const best = state.bestRecord;
    const record = await finalEvaluation(l, ds, config, {
      bestEpoch,
      validation: best?.valBy ?? { [config.eval.statistics]: best?.val ?? null },
      epochsRun: state.epoch,
      trainSeconds: state.trainSeconds,
      trainTiming: state.timing,
    });
    await writeJson(runDir, RUN_FILES.eval, record);
    await writeStatus(runDir, 'finished', state.epoch);
    return { state: 'finished', eval: record };
  } catch (e) {
    // a failed run never looks alive: the reason goes into status.json (the checkpoints stay for a resume)
    if (started) await writeStatus(runDir, 'failed', state.epoch, failureReason(e)).catch(() => undefined);
    throw e;
  } finally {
    await parallel?.close?.();
    disposeLearner(l);
  }
}
