// The paper's toy problem (SPEC §5): interleaved spiral arms. The generator follows the reference
// (arch_uncert's make_spirals): per arm, angle t = sqrt(u)·maxAngle, point t·(cos t, sin t) plus UNIFORM
// noise in [0, noise) per coordinate (the reference adds np.random.rand·noise, not a Gaussian), then the
// arm is rotated by 360°/arms·i. The points are shuffled and split train/test; both are standardised with
// the training mean and (population) std. The data are fixed (generator seed 1234, as in the reference
// scripts), so runs with different seeds compare on the same points.
import type { SpiralsConfig } from '../config/types.ts';
import { Rng } from '../util/rng.ts';
import type { Split } from './types.ts';

export const SPIRALS_DATA_SEED = 1234;

export interface SpiralData {
  train: Split;
  test: Split;
  mean: [number, number];
  std: [number, number];
}

export function makeSpirals(cfg: SpiralsConfig, dataSeed = SPIRALS_DATA_SEED): SpiralData {
  const rng = Rng.derive(dataSeed, 'spirals');
  const perArm = Math.floor(cfg.points / cfg.arms);
  const n = perArm * cfg.arms;
  const pts = new Float64Array(2 * n);
  const labels = new Uint8Array(n);
  const maxAngle = (cfg.maxAngleDeg * Math.PI) / 180;
  for (let arm = 0; arm < cfg.arms; arm++) {
    const rot = (2 * Math.PI * arm) / cfg.arms;
    const cr = Math.cos(rot);
    const sr = Math.sin(rot);
    for (let k = 0; k < perArm; k++) {
      const t = Math.sqrt(rng.uniform()) * maxAngle;
      const px = Math.cos(t) * t + rng.uniform() * cfg.noise;
      const py = Math.sin(t) * t + rng.uniform() * cfg.noise;
      const i = arm * perArm + k;
      pts[2 * i] = cr * px - sr * py;
      pts[2 * i + 1] = sr * px + cr * py;
      labels[i] = arm;
    }
  }
  const order = rng.permutation(n);
  const nTrain = Math.round(n * cfg.trainFraction);
  const mean: [number, number] = [0, 0];
  const std: [number, number] = [0, 0];
  for (let k = 0; k < nTrain; k++) for (let d = 0; d < 2; d++) mean[d] += pts[2 * order[k] + d] / nTrain;
  for (let k = 0; k < nTrain; k++) for (let d = 0; d < 2; d++) std[d] += (pts[2 * order[k] + d] - mean[d]) ** 2 / nTrain;
  for (let d = 0; d < 2; d++) std[d] = Math.sqrt(std[d]) || 1;
  const take = (from: number, to: number): Split => {
    const x = new Float32Array(2 * (to - from));
    const y = new Uint8Array(to - from);
    for (let k = from; k < to; k++) {
      const i = order[k];
      x[2 * (k - from)] = (pts[2 * i] - mean[0]) / std[0];
      x[2 * (k - from) + 1] = (pts[2 * i + 1] - mean[1]) / std[1];
      y[k - from] = labels[i];
    }
    return { x, y, n: to - from };
  };
  return { train: take(0, nTrain), test: take(nTrain, n), mean, std };
}
