// Streaming metrics: evaluation feeds batches of log-probabilities and gets results weighted by batch size
// (every example counts once), without keeping the probabilities.
import type { PredictiveMetrics } from '../runs/layout.ts';
import { CalibrationBins } from './calibration.ts';
import { brierRow, checkShape, topLabel, type Labels, type Matrix } from './classification.ts';

export class MetricsAccumulator {
  private n = 0;
  private correct = 0;
  private sumLogLik = 0;
  private sumBrier = 0;
  private readonly cal10 = new CalibrationBins(10);
  private readonly cal15 = new CalibrationBins(15);
  private row: Float64Array;

  /** `classes`: C, the width of each row. */
  constructor(readonly classes: number) {
    if (!Number.isInteger(classes) || classes < 1) throw new RangeError(`classes must be a positive integer, got ${classes}`);
    this.row = new Float64Array(classes);
  }

  /** Add the first n rows of a batch of log-probabilities [≥n, C] with their labels. */
  add(logProbs: Matrix, labels: Labels, n: number = labels.length): this {
    if (n === 0) return this;
    const C = this.classes;
    checkShape(logProbs, labels, C, n);
    const p = this.row;
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      for (let k = 0; k < C; k++) p[k] = Math.exp(logProbs[i * C + k]);
      const top = topLabel(p, 0, C);
      const ok = top.k === y;
      if (ok) this.correct++;
      this.sumLogLik += logProbs[i * C + y];
      this.sumBrier += brierRow(p, 0, C, y);
      this.cal10.add(top.value, ok);
      this.cal15.add(top.value, ok);
    }
    this.n += n;
    return this;
  }

  /** The same, from probabilities (log p = −∞ where p = 0, so LL can be −∞). */
  addProbs(probs: Matrix, labels: Labels, n: number = labels.length): this {
    const lp = new Float64Array(n * this.classes);
    for (let i = 0; i < lp.length; i++) lp[i] = Math.log(probs[i]);
    return this.add(lp, labels, n);
  }

  get count(): number {
    return this.n;
  }

  result(): PredictiveMetrics {
    if (this.n === 0) throw new RangeError('no examples were added');
    const accuracy = this.correct / this.n;
    return {
      n: this.n,
      accuracy,
      error: 1 - accuracy,
      logLikelihood: this.sumLogLik / this.n,
      ece10: this.cal10.ece(),
      ece15: this.cal15.ece(),
      brier: this.sumBrier / this.n,
      reliability10: this.cal10.bins(),
      reliability15: this.cal15.bins(),
    };
  }
}
