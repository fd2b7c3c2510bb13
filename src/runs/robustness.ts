// The DUN protocol's robustness checks on a trained network (SPEC §6, beyond the paper): out-of-distribution
// detection AUROC with predictive entropy (OOD = positive class), and accuracy / LL / calibration on the test
// split rotated by 0°, 15°, … 180°. Plain functions of a learner and datasets; `vds eval` writes the record.
import type { Dataset } from '../data/types.ts';
import { rotateSplit } from '../data/rotate.ts';
import { auroc, predictiveEntropy, predictiveMetrics } from '../metrics/index.ts';
import type { PreciseStats } from '../model/index.ts';
import { predictSplit } from '../train/evaluate.ts';
import type { Learner } from '../train/step.ts';
import type { OodResult, RotationResult } from './layout.ts';

// 0° (the test split itself, the curve's starting point), 15°, 30°, … 180°
export const DEFAULT_ANGLES = Array.from({ length: 13 }, (_, i) => 15 * i);

const mean = (v: Float64Array) => v.reduce((a, b) => a + b, 0) / v.length;

/** OOD AUROC from the log predictives [n, C] of in-distribution and OOD examples. */
export function oodFromLogProbs(target: string, inLogProbs: ArrayLike<number>, outLogProbs: ArrayLike<number>, classes: number): OodResult {
  const hIn = predictiveEntropy(inLogProbs, classes);
  const hOut = predictiveEntropy(outLogProbs, classes);
  return { target, auroc: auroc(hOut, hIn), nIn: hIn.length, nOut: hOut.length, entropyIn: mean(hIn), entropyOut: mean(hOut) };
}

/**
 * The run's test split against `target`'s test split, which `target` must give with the run's input shape; its
 * images are normalised with the run's dataset constants (a deployed network sees raw pixels, not re-normalised ones).
 */
export async function oodDetection(l: Learner, ds: Dataset, target: Dataset, batch: number, stats?: PreciseStats): Promise<OodResult> {
  const D = l.net.maxDepth;
  const inside = await predictSplit(l, ds, ds.test, batch, D, false, stats);
  const outside = await predictSplit(l, ds, target.test, batch, D, false, stats); // ds: the run's normalisation
  return oodFromLogProbs(target.name, inside.marginal, outside.marginal, inside.classes);
}

/** The full marginal on the test split rotated by each angle. */
export async function rotationSweep(l: Learner, ds: Dataset, angles: number[], batch: number, stats?: PreciseStats): Promise<RotationResult[]> {
  const out: RotationResult[] = [];
  for (const degrees of angles) {
    const rotated = degrees === 0 ? ds.test : rotateSplit(ds.test, ds.inputShape, degrees);
    const p = await predictSplit(l, ds, rotated, batch, l.net.maxDepth, false, stats);
    const m = predictiveMetrics(p.marginal, p.labels, p.classes);
    out.push({ degrees, accuracy: m.accuracy, logLikelihood: m.logLikelihood, ece10: m.ece10, ece15: m.ece15, brier: m.brier });
  }
  return out;
}
