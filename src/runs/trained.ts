// A trained network back from its checkpoint, for commands that evaluate it (prune, eval): the learner
// built from the checkpoint's own config, its weights, and its precise BatchNorm statistics — the ones the
// checkpoint carries, else calibrated now (a checkpoint written before they existed).
import type { VdsConfig } from '../config/types.ts';
import { configToYaml, parseResolvedConfig } from '../config/index.ts';
import type { Dataset } from '../data/types.ts';
import type { PreciseStats } from '../model/index.ts';
import { calibrateLearner, calibrationPlan, setPreciseStats } from '../train/calibrate.ts';
import { createLearner, disposeLearner, restoreLearner } from '../train/learner.ts';
import { WebGpuEngine } from '../engine/engine.ts';
import type { Learner } from '../train/step.ts';
import { readCheckpoint, type Checkpoint } from './checkpoint.ts';

export function loadTrained(file: string, ds: Dataset, ckpt: Checkpoint = readCheckpoint(file)): { learner: Learner; config: VdsConfig } {
  const config = parseResolvedConfig(configToYaml(ckpt.header.config as VdsConfig), file);
  const learner = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
  restoreLearner(learner, ckpt, file, false);
  return { learner, config };
}

/** The learner's precise statistics: the ones its checkpoint carries, else calibrated now (none if K = 0). */
export async function ensurePrecise(l: Learner, config: VdsConfig, ds: Dataset): Promise<PreciseStats | undefined> {
  if (config.eval.calibrationBatches > 0 && !l.precise) setPreciseStats(l, await calibrateLearner(l, ds, calibrationPlan(config, ds)));
  return l.precise;
}

/** On backend webgpu, vds's engine computes the learner's passes (a conv network); otherwise TF.js does. */
export async function useEngine(l: Learner, ds: Dataset, engine: string | undefined): Promise<Learner> {
  if (engine && l.net.kind === 'conv') l.parallel = await WebGpuEngine.start(l, ds.inputShape);
  return l;
}

/** Frees a learner and the engine it evaluated on, if any. */
export async function releaseLearner(l: Learner): Promise<void> {
  await l.parallel?.close?.();
  l.parallel = undefined;
  disposeLearner(l);
}
