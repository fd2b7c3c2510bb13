// Rules across fields, run on a config whose every value already has the right type and range. Errors make
// a config unusable; warnings flag choices that are legal but probably not what was meant.
import type { DataPaths, VdsConfig } from './types.ts';
import { VECTOR_DATASETS } from './schema.ts';

export interface Problem {
  key: string; // the dotted key the message is about
  at?: string; // the dotted key whose file:line locates it (default: key)
  message: string;
}

const PATHS_NEEDED: Partial<Record<string, (keyof DataPaths)[]>> = {
  idx: ['trainImages', 'trainLabels', 'testImages', 'testLabels'],
  mat: ['train', 'test'],
};

/** `explicit(key)`: the key (or something under it) was set by a file, `--set` or a flag, not a default. */
export function checkRules(c: VdsConfig, explicit: (key: string) => boolean): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const warn = (key: string, message: string) => warnings.push({ key, message });
  const d = c.data;

  // data source
  const needed = PATHS_NEEDED[d.name];
  if (needed) {
    const missing = needed.filter((k) => !d.paths[k]);
    if (missing.length) {
      errors.push({
        key: 'data.paths',
        at: 'data.name',
        message: `data.name "${d.name}" reads files by path, so data.paths needs ${needed.join(', ')} (missing: ${missing.join(', ')})`,
      });
    }
  }
  const unusedPaths = (Object.keys(d.paths) as (keyof DataPaths)[]).filter((k) => !needed?.includes(k));
  if (unusedPaths.length) {
    warn(`data.paths.${unusedPaths[0]}`, `ignored: data.name is "${d.name}", which ${needed ? `uses only ${needed.join(', ')}` : 'does not read files by path'}`);
  }
  if (d.extra && d.name !== 'svhn') warn('data.extra', `ignored: only svhn has an extra split (data.name is "${d.name}")`);
  const vectors = VECTOR_DATASETS.includes(d.name);
  if (!vectors && explicit('data.spirals')) warn('data.spirals', `ignored: data.name is "${d.name}", not spirals`);

  // model against data
  if (c.model.kind === 'fc' && !vectors) {
    errors.push({ key: 'model.kind', message: `kind "fc" needs vector data (${VECTOR_DATASETS.join(', ')}), but data.name "${d.name}" is images; use kind conv` });
  }
  if (c.model.kind === 'conv' && vectors) {
    errors.push({ key: 'model.kind', message: `kind "conv" needs image data, but data.name "${d.name}" is vectors; use kind fc` });
  }
  if (c.model.kind === 'conv' && explicit('model.width')) warn('model.width', 'ignored: width is the fc network\'s; conv uses outerWidth and innerWidth');
  if (c.model.kind === 'fc') {
    for (const k of ['outerWidth', 'innerWidth']) if (explicit(`model.${k}`)) warn(`model.${k}`, `ignored: ${k} is the conv network's; fc uses width`);
  }

  // method, prior, pruning
  if (c.model.method === 'fixed') {
    if (explicit('prior')) warn('prior', 'ignored: a fixed-depth network has no depth posterior, so no prior');
    if (explicit('prune')) warn('prune', 'ignored: fixed-depth networks are not pruned');
  } else if (c.model.maxDepth === 0) {
    warn('model.maxDepth', 'with maxDepth 0 there is a single depth, so q is 1 on it and nothing is learnt about depth');
  }
  if (c.prior.kind === 'uniform' && explicit('prior.decay')) warn('prior.decay', 'ignored: the uniform prior has no decay');
  if (c.prune.rule === 'expected' && explicit('prune.threshold')) warn('prune.threshold', 'ignored: rule "expected" takes d* = round(E_q[d])');

  // evaluation statistics
  if (c.eval.statistics === 'precise' && c.eval.calibrationBatches === 0) {
    errors.push({ key: 'eval.calibrationBatches', message: 'eval.statistics "precise" needs at least one calibration batch; set eval.calibrationBatches ≥ 1, or eval.statistics: running for the reference\'s statistics alone' });
  }
  if (c.eval.calibrationBatchSize !== null && c.eval.calibrationBatches === 0) warn('eval.calibrationBatchSize', 'ignored: eval.calibrationBatches is 0, so nothing is calibrated');

  // training schedule
  const t = c.train;
  if (d.validationFraction === 0) {
    warn('data.validationFraction', '0 holds out no validation split: early stopping (and the best checkpoint) falls back to the training ELBO');
  } else if (d.limit !== null && Math.round(d.limit * d.validationFraction) === 0) {
    warn('data.validationFraction', `${d.validationFraction} of data.limit ${d.limit} rounds to an empty validation split: early stopping falls back to the training ELBO`);
  }
  const late = t.lrMilestones.filter((m) => m >= t.epochs);
  if (late.length) warn('train.lrMilestones', `milestone${late.length > 1 ? 's' : ''} ${late.join(', ')} never reached in ${t.epochs} epochs`);
  if (t.lrMilestones.length === 0 && explicit('train.lrGamma')) warn('train.lrGamma', 'ignored: no lrMilestones, so the learning rate is constant');
  if (t.batchSize === 0 && !vectors) {
    warn('train.batchSize', `0 means full batch: one step per epoch with the whole ${d.name} training split in memory at once`);
  }
  return { errors, warnings };
}
