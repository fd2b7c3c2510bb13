// Streaming accumulation and the OOD helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auroc, entropyFromProbs, MetricsAccumulator, predictiveEntropy, predictiveMetrics } from '../src/metrics/index.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);
const P = [0.25, 0.2, 0.55, 0.55, 0.05, 0.4, 0.1, 0.3, 0.6, 0.9, 0.05, 0.05];
const LP = new Float64Array(P.map(Math.log));
const Y = new Int32Array([0, 1, 2, 0]);

test('batches of different sizes give the same result as one pass (weighted by batch size)', () => {
  const whole = predictiveMetrics(LP, Y);
  const acc = new MetricsAccumulator(3);
  acc.add(LP.subarray(0, 9), Y.subarray(0, 3));
  acc.add(LP.subarray(9), Y.subarray(3));
  const r = acc.result();
  assert.equal(r.n, 4);
  close(r.logLikelihood, whole.logLikelihood);
  close(r.brier, whole.brier);
  close(r.ece10, whole.ece10);
  assert.deepEqual(r.reliability15, whole.reliability15);
  // not the mean of batch means: batch 1 LL = (ln.25+ln.05+ln.6)/3, batch 2 LL = ln.9
  const meanOfMeans = ((Math.log(0.25) + Math.log(0.05) + Math.log(0.6)) / 3 + Math.log(0.9)) / 2;
  assert.ok(Math.abs(r.logLikelihood - meanOfMeans) > 0.1);
});

test('add(…, n) reads only the first n rows of a reused buffer', () => {
  const buf = new Float64Array(6 * 3).fill(Math.log(1 / 3));
  const labels = new Int32Array(6);
  buf.set(LP.subarray(0, 6));
  labels.set([0, 1]);
  const acc = new MetricsAccumulator(3).add(buf, labels, 2);
  buf.set(LP.subarray(6));
  labels.set([2, 0]);
  acc.add(buf, labels, 2);
  const r = acc.result();
  assert.equal(r.n, 4);
  close(r.accuracy, 0.5);
  close(r.ece10, 0.2);
});

test('addProbs matches add on log-probabilities', () => {
  const a = new MetricsAccumulator(3).addProbs(new Float64Array(P), Y).result();
  const b = new MetricsAccumulator(3).add(LP, Y).result();
  close(a.logLikelihood, b.logLikelihood);
  close(a.brier, b.brier);
  assert.throws(() => new MetricsAccumulator(3).result(), /no examples/);
});

test('predictive entropy: ln C for uniform, 0 for one-hot (with −∞ log-probs)', () => {
  const h = predictiveEntropy(new Float64Array([...Array(4).fill(Math.log(0.25)), 0, -Infinity, -Infinity, -Infinity]), 4);
  close(h[0], Math.log(4));
  assert.equal(h[1], 0);
  // (.5, .5, 0): ln 2
  close(entropyFromProbs(new Float64Array([0.5, 0.5, 0]), 3)[0], Math.log(2));
});

test('AUROC by counting pairs, ties count one half', () => {
  assert.equal(auroc([3, 4], [1, 2]), 1);
  assert.equal(auroc([1, 2], [3, 4]), 0);
  assert.equal(auroc([1], [1]), 0.5);
  // 0.9 beats 4 negatives; 0.4 beats 0.3 and 0.1 and ties 0.4 (2.5); 0.6 beats 4 → 10.5 / 12
  assert.equal(auroc([0.9, 0.4, 0.6], [0.3, 0.5, 0.1, 0.4]), 0.875);
  assert.throws(() => auroc([], [1]), /at least one/);
});
