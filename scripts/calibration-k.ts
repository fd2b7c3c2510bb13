// Accuracy and log-likelihood of a trained run against K, the number of calibration batches for precise
// BatchNorm statistics (SPEC §8), with the time calibration takes on one thread; the reference's running
// statistics as the baseline. Reads the run's best checkpoint; writes nothing.
//   node --import tsx scripts/calibration-k.ts RUN_DIR [K ...]      (default K: 1 2 5 10 20 50)
import { selectBackend } from '../src/tf/backend.ts';
import { loadDataset, resolveDataDir } from '../src/data/index.ts';
import { configToYaml, parseResolvedConfig } from '../src/config/index.ts';
import type { VdsConfig } from '../src/config/types.ts';
import { predictiveMetrics } from '../src/metrics/index.ts';
import { readCheckpoint } from '../src/runs/checkpoint.ts';
import { checkpointPath } from '../src/runs/execute.ts';
import { calibrate, calibrationPlan } from '../src/train/calibrate.ts';
import { predictSplit } from '../src/train/evaluate.ts';
import { createLearner, disposeLearner, restoreLearner } from '../src/train/learner.ts';

const [runDir, ...ks] = process.argv.slice(2);
if (!runDir) {
  process.stderr.write('usage: node --import tsx scripts/calibration-k.ts RUN_DIR [K ...]\n');
  process.exit(2);
}
const file = checkpointPath(runDir, 'best');
const ckpt = readCheckpoint(file);
const config = parseResolvedConfig(configToYaml(ckpt.header.config as VdsConfig), file);
const backend = await selectBackend(config.backend);
const ds = await loadDataset(config.data, config.seed, { dataDir: resolveDataDir(config.data.dir ?? undefined) });
const l = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
restoreLearner(l, ckpt, file, false);
l.precise?.dispose();
l.precise = undefined;
const D = config.model.maxDepth;
const test = async (stats?: Parameters<typeof predictSplit>[6]) => {
  const p = await predictSplit(l, ds, ds.test, config.train.evalBatchSize, D, false, stats);
  return predictiveMetrics(p.marginal, p.labels, p.classes);
};
const line = (name: string, m: { accuracy: number; logLikelihood: number; ece15: number }, s: string) =>
  process.stdout.write(`${name.padEnd(10)} ${m.accuracy.toFixed(4)}  ${m.logLikelihood.toFixed(4).padStart(8)}  ${m.ece15.toFixed(4)}  ${s}\n`);
process.stdout.write(`${runDir}\nbackend ${backend.name}; test split ${ds.test.n}; calibration batches of ${calibrationPlan({ ...config, eval: { ...config.eval, calibrationBatches: 1 } }, ds)[0].length} training rows\n`);
process.stdout.write(`K          accuracy        LL   ECE15   calibration (s, one thread)\n`);
line('running', await test(), '-');
for (const K of (ks.length ? ks : ['1', '2', '5', '10', '20', '50']).map(Number)) {
  const plan = calibrationPlan({ ...config, eval: { ...config.eval, calibrationBatches: K } }, ds);
  const t0 = performance.now();
  const stats = await calibrate(l, ds, plan);
  const seconds = (performance.now() - t0) / 1000;
  line(String(K), await test(stats), seconds.toFixed(2));
  stats.dispose();
}
disposeLearner(l);
