// Hand-computed checks of the plain-number metrics (SPEC §6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accuracy,
  binIndex,
  brierScore,
  expectedCalibrationError,
  meanLogLikelihood,
  predictiveMetrics,
  reliabilityBins,
} from '../src/metrics/index.ts';

// torchmetrics' multiclass calibration-error docstring example
const P = new Float64Array([0.25, 0.2, 0.55, 0.55, 0.05, 0.4, 0.1, 0.3, 0.6, 0.9, 0.05, 0.05]);
const Y = new Int32Array([0, 1, 2, 0]);
const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('ECE: torchmetrics docstring example is 0.2000 with 3 bins (and with 10 and 15)', () => {
  // top labels: .55 (wrong), .55 (wrong), .60 (right), .90 (right)
  // 3 bins: (1/3,2/3] holds .55,.55,.60 → |1/3 − 1.7/3|·3/4 = 0.175; (2/3,1] holds .90 → 0.1·1/4 = 0.025
  close(expectedCalibrationError(P, Y, 3), 0.2);
  // 10 bins: .60 sits on an edge and joins (0.5,0.6] with the two .55s; .90 joins (0.8,0.9]
  close(expectedCalibrationError(P, Y, 10), 0.2);
  close(expectedCalibrationError(P, Y, 15), 0.2);
});

test('bin edges: a confidence on an edge goes to the bin whose upper edge it is', () => {
  assert.equal(binIndex(0.2, 10), 1); // (0.1, 0.2]
  for (const B of [3, 10, 15]) {
    for (let k = 1; k <= B; k++) assert.equal(binIndex(k / B, B), k - 1, `${k}/${B}`);
  }
  assert.equal(binIndex(0.3, 10), 2); // 0.3·10 rounds to 3.0000000000000004
  assert.equal(binIndex(0.7, 10), 6);
  assert.equal(binIndex(0.6, 10), 5);
  assert.equal(binIndex(0.2000001, 10), 2);
  assert.equal(binIndex(0.1999999, 10), 1);
  assert.equal(binIndex(0.05, 10), 0);
  assert.equal(binIndex(1, 10), 9);
  assert.equal(binIndex(1 + 1e-7, 10), 9); // rounding above 1 stays in the last bin
});

test('reliability bins: count, mean confidence, accuracy; zeros when empty', () => {
  const bins = reliabilityBins(P, Y, 3);
  assert.equal(bins.length, 3);
  assert.deepEqual(bins[0], { lower: 0, upper: 1 / 3, count: 0, confidence: 0, accuracy: 0 });
  assert.equal(bins[1].count, 3);
  close(bins[1].confidence, (0.55 + 0.55 + 0.6) / 3);
  close(bins[1].accuracy, 1 / 3);
  close(bins[1].lower, 1 / 3);
  close(bins[1].upper, 2 / 3);
  assert.equal(bins[2].count, 1);
  close(bins[2].confidence, 0.9);
  assert.equal(bins[2].accuracy, 1);
  assert.equal(bins[2].upper, 1);
});

test('accuracy, Brier and log-likelihood by hand', () => {
  assert.equal(accuracy(P, Y), 0.5);
  // rows: (.75²+.2²+.55²)=.905, (.55²+.95²+.4²)=1.365, (.1²+.3²+.4²)=.26, (.1²+.05²+.05²)=.015 → 2.545/4
  close(brierScore(P, Y), 0.63625);
  const logP = P.map(Math.log);
  close(meanLogLikelihood(logP, Y), (Math.log(0.25) + Math.log(0.05) + Math.log(0.6) + Math.log(0.9)) / 4);
  close(meanLogLikelihood(logP, Y), -1.2495532, 1e-7); // (−1.3862944 − 2.9957323 − 0.5108256 − 0.1053605) / 4
});

test('Brier spans 0 (certain and right) to 2 (certain and wrong)', () => {
  const oneHot = new Float64Array([1, 0, 0, 0, 1, 0]);
  close(brierScore(oneHot, new Uint8Array([0, 1])), 0);
  close(brierScore(oneHot, new Uint8Array([1, 2])), 2);
});

test('predictiveMetrics from log-probabilities (Float32 input, class count inferred or given)', () => {
  const lp = new Float32Array(P.map(Math.log));
  const m = predictiveMetrics(lp, Y);
  assert.equal(m.n, 4);
  assert.equal(m.accuracy, 0.5);
  assert.equal(m.error, 0.5);
  close(m.logLikelihood, -1.2495532, 1e-6);
  close(m.brier, 0.63625, 1e-6);
  close(m.ece10, 0.2, 1e-6);
  close(m.ece15, 0.2, 1e-6);
  assert.equal(m.reliability10.length, 10);
  assert.equal(m.reliability15.length, 15);
  assert.deepEqual(predictiveMetrics(lp, Y, 3), m);
  // in float64, .60 and .90 sit exactly on edges (float32 rounding may push them across, honestly)
  const m64 = predictiveMetrics(P.map(Math.log), Y);
  assert.deepEqual(
    m64.reliability10.map((b) => b.count),
    [0, 0, 0, 0, 0, 3, 0, 0, 1, 0],
  );
});

test('shape and label errors are refused', () => {
  assert.throws(() => accuracy(new Float64Array(5), new Int32Array([0, 1])), /not \[2, C\]/);
  assert.throws(() => accuracy(new Float64Array(4), new Int32Array([0, 2])), /label 2/);
  assert.throws(() => predictiveMetrics(new Float64Array(0), new Int32Array(0)), /no examples/);
});
