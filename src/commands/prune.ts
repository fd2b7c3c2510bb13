// `vds prune RUN_DIR`: cut a trained learnt-depth network at d*, write the pruned network as its own
// checkpoint, load it back, and compare full vs pruned on the test split (metrics, parameters, measured
// evaluation time; speed-up also against the fixed-depth network of depth D when the results hold one).
import path from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { PruneConfig, VdsConfig } from '../config/types.ts';
import { selectBackend } from '../tf/backend.ts';
import { loadDataset, resolveDataDir } from '../data/index.ts';
import type { Dataset } from '../data/types.ts';
import { predictiveMetrics } from '../metrics/index.ts';
import { readCheckpoint, writeCheckpoint } from '../runs/checkpoint.ts';
import { ensurePrecise, loadTrained, releaseLearner, useEngine } from '../runs/trained.ts';
import { checkpointPath } from '../runs/execute.ts';
import { RUN_FILES, type PruneRecord, type StatisticsKind } from '../runs/layout.ts';
import { pruneTensors, prunedConfig } from '../runs/pruning.ts';
import { readStatus, writeJson } from '../runs/run-dir.ts';
import { predictSplit, type PredictorOutputs } from '../train/evaluate.ts';
import { createLearner, learnerParams, learnerTensors, restoreLearner } from '../train/learner.ts';
import type { PreciseStats } from '../model/index.ts';
import { statisticsSets } from '../train/calibrate.ts';
import type { Learner } from '../train/step.ts';
import { pruneDepth } from '../vds/prune.ts';
import { VdsError } from '../util/errors.ts';
import { VDS_VERSION } from '../util/version.ts';
import { ratioSpread, spread, timeInterleaved, type Spread } from '../util/timing.ts';
import { faultPoint } from '../util/fault.ts';
import { assertRunDir } from '../runs/locate.ts';

export interface PruneOptions {
  runDir: string;
  threshold?: number;
  rule?: 'threshold' | 'expected';
  backend?: string;
  dataDir?: string;
}

/** One pass over the test split, for timing. */
const testPass = (l: Learner, ds: Dataset, batch: number, upTo: number, stats?: PreciseStats) => () => predictSplit(l, ds, ds.test, batch, upTo, false, stats);

/** A finished fixed-depth run of depth D on the same data beside this run (same seed preferred). */
function findFixedRun(runDir: string, config: VdsConfig): string | null {
  const parent = path.dirname(path.resolve(runDir));
  const candidates: { dir: string; seed: number }[] = [];
  for (const name of readdirSync(parent)) {
    const dir = path.join(parent, name);
    const cfgFile = path.join(dir, RUN_FILES.config);
    if (dir === path.resolve(runDir) || !existsSync(cfgFile) || readStatus(dir)?.state !== 'finished') continue;
    try {
      const c = YAML.parse(readFileSync(cfgFile, 'utf8')) as VdsConfig;
      if (c.model.method === 'fixed' && c.model.maxDepth === config.model.maxDepth && c.data.name === config.data.name && c.model.kind === config.model.kind) {
        candidates.push({ dir, seed: c.seed });
      }
    } catch {
      // an unreadable neighbour is not this command's business
    }
  }
  candidates.sort((a, b) => Number(b.seed === config.seed) - Number(a.seed === config.seed) || a.dir.localeCompare(b.dir));
  return candidates[0]?.dir ?? null;
}

export async function pruneCommand(o: PruneOptions): Promise<void> {
  const runDir = o.runDir;
  assertRunDir(runDir, 'vds prune RUN_DIR');
  let file = checkpointPath(runDir, 'best');
  if (!existsSync(file)) file = checkpointPath(runDir, 'last');
  if (!existsSync(file)) throw new VdsError('no checkpoint found (checkpoints/best.ckpt or last.ckpt)', { file: runDir, hint: `it has not finished an epoch yet: continue it with \`vds train --resume ${runDir}\`` });
  const ckpt = readCheckpoint(file);
  const runConfig = ckpt.header.config as VdsConfig;
  if (runConfig.model?.method !== 'learnt') {
    throw new VdsError('only learnt-depth runs can be pruned (model.method is "fixed")', { file, key: 'model.method' });
  }
  const rule: PruneConfig = {
    rule: o.rule ?? (o.threshold !== undefined ? 'threshold' : runConfig.prune.rule),
    threshold: o.threshold ?? runConfig.prune.threshold,
  };

  const backend = await selectBackend((o.backend ?? runConfig.backend) as VdsConfig['backend']);
  const ds = await loadDataset(runConfig.data, runConfig.seed, { dataDir: resolveDataDir(o.dataDir ?? runConfig.data.dir ?? undefined) });
  const full = loadTrained(file, ds, ckpt);
  await useEngine(full.learner, ds, backend.engine);
  const D = full.config.model.maxDepth;
  const q = await full.learner.posterior.probs();
  const depth = pruneDepth(q, rule);

  await ensurePrecise(full.learner, full.config, ds);

  // the pruned network is recalibrated for its own depths (SPEC §8), written with those statistics, then
  // loaded back from its own file: what is evaluated is what was saved
  const prunedFile = checkpointPath(runDir, 'pruned');
  const cfgPruned = prunedConfig(full.config, depth);
  const cut = createLearner(cfgPruned, ds.inputShape, ds.classes, ds.train.n);
  try {
    restoreLearner(cut, { tensors: pruneTensors(ckpt.tensors, depth) }, file, false);
    await useEngine(cut, ds, backend.engine);
    await ensurePrecise(cut, cfgPruned, ds);
    await writeCheckpoint(prunedFile, { vdsVersion: VDS_VERSION, kind: 'pruned', config: cfgPruned, state: { source: file, depth, rule, q } }, await learnerTensors(cut, false));
  } finally {
    await releaseLearner(cut);
  }
  faultPoint('prune');
  const pruned = loadTrained(prunedFile, ds);
  await useEngine(pruned.learner, ds, backend.engine);

  const bs = full.config.train.evalBatchSize;
  const statistics = full.config.eval.statistics;
  const statsOf = (l: Learner, kind: StatisticsKind) => (kind === 'precise' ? l.precise : undefined);
  const fullPass = await predictSplit(full.learner, ds, ds.test, bs, D, false, statsOf(full.learner, statistics));
  const prunedPass = await predictSplit(pruned.learner, ds, ds.test, bs, depth, false, statsOf(pruned.learner, statistics));
  const metricsOf = (p: PredictorOutputs) => predictiveMetrics(p.marginal, p.labels, p.classes);
  const byStatistics: PruneRecord['byStatistics'] = { [statistics]: { full: metricsOf(fullPass), pruned: metricsOf(prunedPass) } };
  for (const { kind, stats } of statisticsSets(full.learner)) {
    if (kind === statistics) continue;
    byStatistics[kind] = {
      full: metricsOf(await predictSplit(full.learner, ds, ds.test, bs, D, false, stats)),
      pruned: metricsOf(await predictSplit(pruned.learner, ds, ds.test, bs, depth, false, statsOf(pruned.learner, kind))),
    };
  }
  // Evaluation time: repeated passes over the test split, full / pruned / fixed in turn each round, so a
  // speed-up is a median with its range, not one 10 ms measurement. Nothing pruned (d* = D): nothing to time.
  const nothingPruned = depth === D;
  const fixedRunDir = nothingPruned ? null : findFixedRun(runDir, full.config);
  const fixed = fixedRunDir ? loadTrained(checkpointPath(fixedRunDir, 'best'), ds) : null;
  if (fixed) await useEngine(fixed.learner, ds, backend.engine);
  const passes = [testPass(full.learner, ds, bs, D, statsOf(full.learner, statistics))];
  if (!nothingPruned) passes.push(testPass(pruned.learner, ds, bs, depth, statsOf(pruned.learner, statistics)));
  if (fixed) passes.push(testPass(fixed.learner, ds, bs, D));
  const [fullTimes, prunedTimes = fullTimes, fixedTimes] = await timeInterleaved(passes);
  if (fixed) await releaseLearner(fixed.learner);
  const vsFull = nothingPruned ? null : ratioSpread(fullTimes, prunedTimes);
  const vsFixed = fixedTimes ? ratioSpread(fixedTimes, prunedTimes) : null;
  const configDepth = pruneDepth(q, full.config.prune);
  const record: PruneRecord = {
    vdsVersion: VDS_VERSION,
    statistics,
    byStatistics,
    rule: rule.rule,
    threshold: rule.rule === 'threshold' ? rule.threshold : null,
    depth,
    q,
    ...(configDepth !== depth ? { configDepth } : {}),
    full: { metrics: byStatistics[statistics]!.full, params: learnerParams(full.learner, D), evalSeconds: spread(fullTimes).median, depth: D, timing: spread(fullTimes) },
    pruned: { metrics: byStatistics[statistics]!.pruned, params: learnerParams(pruned.learner, depth), evalSeconds: spread(prunedTimes).median, depth, timing: spread(prunedTimes) },
    nothingPruned,
    speedupVsFull: vsFull?.median ?? null,
    speedupVsFixed: vsFixed?.median ?? null,
    speedups: { vsFull, vsFixed },
    fixedRunDir,
    evaluatedExamples: ds.test.n,
  };
  await releaseLearner(full.learner);
  await releaseLearner(pruned.learner);
  await writeJson(runDir, RUN_FILES.prune, record);

  const seconds = (t: Spread): string => `${t.median.toFixed(3)} (${t.min.toFixed(3)}–${t.max.toFixed(3)})`;
  const row = (name: string, r: PruneRecord['full']): string =>
    `${name.padEnd(8)} ${String(r.depth).padStart(5)} ${r.metrics.accuracy.toFixed(4).padStart(8)} ${r.metrics.logLikelihood.toFixed(4).padStart(8)} ` +
    `${r.metrics.ece10.toFixed(4).padStart(11)} ${r.metrics.brier.toFixed(4).padStart(7)} ${String(r.params).padStart(9)}  ${seconds(r.timing!)}`;
  const ruleText = rule.rule === 'threshold' ? `threshold ${rule.threshold}` : 'expected';
  const speedup = (s: Spread): string => `${s.median.toFixed(2)}x (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  process.stdout.write(
    [
      `backend ${backend.name}; ${depth === configDepth ? `d* = ${depth}` : `pruned at d = ${depth}`} of D = ${D} by rule ${ruleText}` +
        (depth === configDepth ? '' : ` (the run's own rule, ${full.config.prune.rule}, gives d* = ${configDepth})`) +
        `; ${statistics === 'precise' ? 'precise per-depth' : "the reference's running"} BatchNorm statistics`,
      `network  depth accuracy       LL  ECE 10 bins   Brier    params  eval s: median (min–max) of ${record.full.timing!.repeats} passes`,
      row('full', record.full),
      ...(nothingPruned ? [`nothing pruned: d = D = ${D}, the pruned network is the full one`] : [row('pruned', record.pruned)]),
      ...Object.entries(byStatistics)
        .filter(([k]) => k !== statistics)
        .map(([k, m]) => `with ${k === 'precise' ? 'precise per-depth' : "the reference's running"} statistics: accuracy full ${m!.full.accuracy.toFixed(4)} → pruned ${m!.pruned.accuracy.toFixed(4)}; LL ${m!.full.logLikelihood.toFixed(4)} → ${m!.pruned.logLikelihood.toFixed(4)}`),
      nothingPruned
        ? 'no speed-up to measure (nothing pruned)'
        : `speed-up vs full ${speedup(vsFull!)}` +
          (vsFixed === null ? '; no fixed-depth run of depth D beside this run' : `; vs fixed depth ${D} ${speedup(vsFixed)} (${fixedRunDir})`) +
          ` — median and range over ${vsFull!.repeats} paired passes` +
          (vsFull!.min < 1 && vsFull!.max > 1 ? '; the range spans 1x: no speed-up that this machine measures reliably' : ''),
      path.join(runDir, RUN_FILES.prune),
    ].join('\n') + '\n',
  );
}
