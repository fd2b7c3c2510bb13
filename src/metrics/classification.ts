// Plain-number metrics of a classifier's predictive distribution. Matrices are row-major [n, C]; the class
// count is `classes` when given, else length / labels.length. The top label is the argmax, ties → lowest index.

export type Matrix = Float32Array | Float64Array | ArrayLike<number>;
export type Labels = Int32Array | Uint8Array | ArrayLike<number>;

/** Number of classes, after checking the matrix and labels agree and every label is a class index. */
export function checkShape(m: Matrix, labels: Labels, classes?: number, rows = labels.length): number {
  if (rows === 0) throw new RangeError('no examples');
  const C = classes ?? m.length / rows;
  if (!Number.isInteger(C) || C < 1) throw new RangeError(`matrix of length ${m.length} is not [${rows}, C]`);
  if (m.length < rows * C) throw new RangeError(`matrix of length ${m.length} is shorter than [${rows}, ${C}]`);
  if (labels.length < rows) throw new RangeError(`${labels.length} labels for ${rows} rows`);
  for (let i = 0; i < rows; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new RangeError(`label ${y} at row ${i} is not in 0..${C - 1}`);
  }
  return C;
}

/** Argmax of row i and its value. */
export function topLabel(m: Matrix, i: number, C: number): { k: number; value: number } {
  let k = 0;
  let value = m[i * C];
  for (let j = 1; j < C; j++) {
    const v = m[i * C + j];
    if (v > value) {
      value = v;
      k = j;
    }
  }
  return { k, value };
}

/** Fraction of rows whose argmax is the label (works on probabilities or log-probabilities alike). */
export function accuracy(scores: Matrix, labels: Labels, classes?: number): number {
  const C = checkShape(scores, labels, classes);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (topLabel(scores, i, C).k === labels[i]) correct++;
  return correct / labels.length;
}

/** Mean log p(y|x) in nats, from log-probabilities. */
export function meanLogLikelihood(logProbs: Matrix, labels: Labels, classes?: number): number {
  const C = checkShape(logProbs, labels, classes);
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += logProbs[i * C + labels[i]];
  return s / labels.length;
}

/** Σ_k (p_k − 1[y=k])² for one row. */
export function brierRow(probs: Matrix, i: number, C: number, y: number): number {
  let s = 0;
  for (let k = 0; k < C; k++) {
    const d = probs[i * C + k] - (k === y ? 1 : 0);
    s += d * d;
  }
  return s;
}

/** Mean over rows of Σ_k (p_k − 1[y=k])²; range 0–2. */
export function brierScore(probs: Matrix, labels: Labels, classes?: number): number {
  const C = checkShape(probs, labels, classes);
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += brierRow(probs, i, C, labels[i]);
  return s / labels.length;
}

/** exp of every entry: log-probabilities → probabilities. */
export function expAll(logProbs: Matrix): Float64Array {
  const out = new Float64Array(logProbs.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.exp(logProbs[i]);
  return out;
}
