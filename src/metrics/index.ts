// Predictive metrics as plain numbers (SPEC §6). Everything here works on typed arrays, never tensors.
import type { PredictiveMetrics } from '../runs/layout.ts';
import { MetricsAccumulator } from './accumulator.ts';
import { checkShape, type Labels, type Matrix } from './classification.ts';

export { MetricsAccumulator } from './accumulator.ts';
export { binIndex, CalibrationBins, expectedCalibrationError, reliabilityBins } from './calibration.ts';
export { accuracy, brierScore, expAll, meanLogLikelihood, topLabel, type Labels, type Matrix } from './classification.ts';
export { auroc, entropyFromProbs, predictiveEntropy } from './ood.ts';

/** Every metric of PredictiveMetrics from log-probabilities [n, C] (C = `classes`, else length / n). */
export function predictiveMetrics(logProbs: Matrix, labels: Labels, classes?: number): PredictiveMetrics {
  const C = checkShape(logProbs, labels, classes);
  return new MetricsAccumulator(C).add(logProbs, labels).result();
}
