// Top-label calibration (Guo et al. 2017): confidence = max_k p_k, B equal-width bins over (0, 1].
// Bin b covers (b/B, (b+1)/B]; a confidence exactly on an edge belongs to the bin whose upper edge it is
// (0.2 with 10 bins → (0.1, 0.2]). Edges are the doubles b/B, the same numbers reported as lower/upper.
import type { ReliabilityBin } from '../runs/layout.ts';
import { checkShape, topLabel, type Labels, type Matrix } from './classification.ts';

/** Index of the bin (b/B, (b+1)/B] holding confidence c; values ≤ 0 go to the first bin, > 1 to the last. */
export function binIndex(c: number, bins: number): number {
  let b = Math.ceil(c * bins) - 1;
  // c·B is rounded, so the product can land just past an edge: fix up against the edges themselves
  if (b > 0 && c <= b / bins) b--;
  if (b < bins - 1 && c > (b + 1) / bins) b++;
  return Math.min(bins - 1, Math.max(0, b));
}

/** Running per-bin sums; `bins()` and `ece()` read them. Feed it one (confidence, correct) pair at a time. */
export class CalibrationBins {
  readonly count: Float64Array;
  readonly sumConfidence: Float64Array;
  readonly correct: Float64Array;

  constructor(readonly nBins: number) {
    if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`bins must be a positive integer, got ${nBins}`);
    this.count = new Float64Array(nBins);
    this.sumConfidence = new Float64Array(nBins);
    this.correct = new Float64Array(nBins);
  }

  add(confidence: number, isCorrect: boolean): void {
    const b = binIndex(confidence, this.nBins);
    this.count[b]++;
    this.sumConfidence[b] += confidence;
    if (isCorrect) this.correct[b]++;
  }

  total(): number {
    let n = 0;
    for (const c of this.count) n += c;
    return n;
  }

  bins(): ReliabilityBin[] {
    return Array.from({ length: this.nBins }, (_, b) => {
      const n = this.count[b];
      return {
        lower: b / this.nBins,
        upper: (b + 1) / this.nBins,
        count: n,
        confidence: n > 0 ? this.sumConfidence[b] / n : 0,
        accuracy: n > 0 ? this.correct[b] / n : 0,
      };
    });
  }

  /** Σ_b (n_b/N)·|acc_b − conf_b|; NaN when nothing was added. */
  ece(): number {
    const N = this.total();
    if (N === 0) return NaN;
    let e = 0;
    for (let b = 0; b < this.nBins; b++) {
      const n = this.count[b];
      if (n > 0) e += (n / N) * Math.abs(this.correct[b] / n - this.sumConfidence[b] / n);
    }
    return e;
  }
}

function fill(probs: Matrix, labels: Labels, nBins: number, classes?: number): CalibrationBins {
  const C = checkShape(probs, labels, classes);
  const acc = new CalibrationBins(nBins);
  for (let i = 0; i < labels.length; i++) {
    const { k, value } = topLabel(probs, i, C);
    acc.add(value, k === labels[i]);
  }
  return acc;
}

/** Top-label expected calibration error of probabilities [n, C] with `bins` equal-width bins. */
export function expectedCalibrationError(probs: Matrix, labels: Labels, bins = 10, classes?: number): number {
  return fill(probs, labels, bins, classes).ece();
}

/** Reliability-diagram data: per bin (lower, upper, count, mean confidence, accuracy); 0 when empty. */
export function reliabilityBins(probs: Matrix, labels: Labels, bins = 10, classes?: number): ReliabilityBin[] {
  return fill(probs, labels, bins, classes).bins();
}
