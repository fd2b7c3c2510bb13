// `vds prune RUN_DIR`: cut a trained learnt-depth network at d*, write the pruned network as its own
// checkpoint, load it back, and compare full vs pruned on the test split (metrics, parameters, measured
// evaluation time; speed-up also against the fixed-depth network of depth D when the results hold one).
import path from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { PruneConfig, VdsConfig } from '../config/types.ts';
import { configToYaml, parseResolvedConfig } from '../config/index.ts';
import { selectBackend } from '../tf/backend.ts';
import { loadDataset, resolveDataDir } from '../data/index.ts';
import type { Dataset } from '../data/types.ts';
import { predictiveMetrics } from '../metrics/index.ts';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from '../runs/checkpoint.ts';
import { checkpointPath } from '../runs/execute.ts';
import { RUN_FILES, type PruneRecord } from '../runs/layout.ts';
import { pruneTensors, prunedConfig } from '../runs/pruning.ts';
import { readStatus, writeJson } from '../runs/run-dir.ts';
import { predictSplit } from '../train/evaluate.ts';
import { createLearner, disposeLearner, learnerParams, restoreLearner } from '../train/learner.ts';
import type { Learner } from '../train/step.ts';
import { pruneDepth } from '../vds/prune.ts';
import { VdsError } from '../util/errors.ts';
import { VDS_VERSION } from '../util/version.ts';

export interface PruneOptions {
  runDir: string;
  threshold?: number;
  rule?: 'threshold' | 'expected';
  backend?: string;
  dataDir?: string;
}

function loadLearner(file: string, ds: Dataset, ckpt: Checkpoint = readCheckpoint(file)): { learner: Learner; config: VdsConfig } {
  const config = parseResolvedConfig(configToYaml(ckpt.header.config as VdsConfig), file);
  const learner = createLearner(config, ds.inputShape, ds.classes, ds.train.n);
  restoreLearner(learner, ckpt, file, false);
  return { learner, config };
}

/** Full pass over the test split after one warm-up batch, so timings compare like with like. */
function timedPass(l: Learner, ds: Dataset, batch: number, upTo: number) {
  predictSplit(l, ds, { ...ds.test, n: Math.min(ds.test.n, batch) }, batch, upTo, false);
  return predictSplit(l, ds, ds.test, batch, upTo, false);
}

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
  let file = checkpointPath(runDir, 'best');
  if (!existsSync(file)) file = checkpointPath(runDir, 'last');
  if (!existsSync(file)) throw new VdsError('no checkpoint found (checkpoints/best.ckpt or last.ckpt)', { file: runDir, hint: 'train it first with `vds train`' });
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
  const full = loadLearner(file, ds, ckpt);
  const D = full.config.model.maxDepth;
  const q = full.learner.posterior.probs();
  const depth = pruneDepth(q, rule);

  // the pruned network is written, then loaded back from its own file: what is evaluated is what was saved
  const prunedFile = checkpointPath(runDir, 'pruned');
  const cfgPruned = prunedConfig(full.config, depth);
  await writeCheckpoint(prunedFile, { vdsVersion: VDS_VERSION, kind: 'pruned', config: cfgPruned, state: { source: file, depth, rule, q } }, pruneTensors(ckpt.tensors, depth));
  const pruned = loadLearner(prunedFile, ds);

  const bs = full.config.train.evalBatchSize;
  const fullPass = timedPass(full.learner, ds, bs, D);
  const prunedPass = timedPass(pruned.learner, ds, bs, depth);
  const fixedRunDir = findFixedRun(runDir, full.config);
  let fixedSeconds: number | null = null;
  if (fixedRunDir) {
    const fixed = loadLearner(checkpointPath(fixedRunDir, 'best'), ds);
    fixedSeconds = timedPass(fixed.learner, ds, bs, D).seconds;
    disposeLearner(fixed.learner);
  }
  const record: PruneRecord = {
    vdsVersion: VDS_VERSION,
    rule: rule.rule,
    threshold: rule.rule === 'threshold' ? rule.threshold : null,
    depth,
    q,
    full: { metrics: predictiveMetrics(fullPass.marginal, fullPass.labels, fullPass.classes), params: learnerParams(full.learner, D), evalSeconds: fullPass.seconds, depth: D },
    pruned: { metrics: predictiveMetrics(prunedPass.marginal, prunedPass.labels, prunedPass.classes), params: learnerParams(pruned.learner, depth), evalSeconds: prunedPass.seconds, depth },
    speedupVsFull: fullPass.seconds / prunedPass.seconds,
    speedupVsFixed: fixedSeconds === null ? null : fixedSeconds / prunedPass.seconds,
    fixedRunDir,
    evaluatedExamples: ds.test.n,
  };
  disposeLearner(full.learner);
  disposeLearner(pruned.learner);
  await writeJson(runDir, RUN_FILES.prune, record);

  const row = (name: string, r: PruneRecord['full']): string =>
    `${name.padEnd(8)} ${String(r.depth).padStart(5)} ${r.metrics.accuracy.toFixed(4).padStart(8)} ${r.metrics.logLikelihood.toFixed(4).padStart(8)} ` +
    `${r.metrics.ece15.toFixed(4).padStart(7)} ${r.metrics.brier.toFixed(4).padStart(7)} ${String(r.params).padStart(9)} ${r.evalSeconds.toFixed(3).padStart(8)}`;
  process.stdout.write(
    [
      `backend ${backend.name}; rule ${rule.rule}${rule.rule === 'threshold' ? ` ${rule.threshold}` : ''}; d* = ${depth} of D = ${D}`,
      `network  depth accuracy       LL     ECE   Brier    params  eval(s)`,
      row('full', record.full),
      row('pruned', record.pruned),
      `speed-up vs full ${record.speedupVsFull.toFixed(2)}x` +
        (record.speedupVsFixed === null ? '; no fixed-depth run of depth D beside this run' : `; vs fixed depth ${D} ${record.speedupVsFixed.toFixed(2)}x (${fixedRunDir})`),
      path.join(runDir, RUN_FILES.prune),
    ].join('\n') + '\n',
  );
}
