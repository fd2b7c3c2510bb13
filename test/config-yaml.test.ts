// The resolved config as YAML (run directories, checkpoints) and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configToYaml, defaultConfig, loadConfig, parseResolvedConfig } from '../src/config/index.ts';
import { VdsError } from '../src/util/errors.ts';

test('round trip: parse(toYaml(c)) equals c', () => {
  const { config } = loadConfig({ sets: ['data.name=mat', 'data.paths={train: /d/train.mat, test: /d/test.mat}', 'train.lrMilestones=[100,200]', 'experiment=007', 'data.limit=500'] });
  const text = configToYaml(config);
  assert.deepEqual(parseResolvedConfig(text, 'run/config.yaml'), config);
  assert.match(text, /^experiment: "007"$/m, 'a numeric-looking name stays a string');
  assert.match(text, /^  lrMilestones: \[100, 200\]$/m, 'number lists on one line');
});

test('stable key order: the schema order, whatever order the object was built in', () => {
  const c = defaultConfig();
  const shuffled = { eval: c.eval, prune: c.prune, train: { ...c.train }, model: c.model, seed: c.seed, data: c.data, prior: c.prior, experiment: c.experiment, backend: c.backend, resultsDir: c.resultsDir };
  assert.equal(configToYaml(shuffled as typeof c), configToYaml(c));
  const top = configToYaml(c).split('\n').filter((l) => /^\w/.test(l)).map((l) => l.split(':')[0]);
  assert.deepEqual(top, ['experiment', 'seed', 'backend', 'resultsDir', 'data', 'model', 'prior', 'train', 'prune', 'eval']);
});

test('a resolved config is validated the same way, and must be complete', () => {
  const text = configToYaml(defaultConfig());
  const bad = text.replace('  lr: 0.1', '  lr: -3');
  try {
    parseResolvedConfig(bad, 'ckpt.header');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof VdsError);
    assert.match(e.format(), /^ckpt\.header:\d+: train\.lr: expected a number > 0, got -3$/);
  }
  assert.throws(
    () => parseResolvedConfig(text.replace(/^  patience: 30\n/m, ''), 'run/config.yaml'),
    (e: unknown) => e instanceof VdsError && e.file === 'run/config.yaml' && e.key === 'train.patience' && /missing \(a resolved config states every key/.test(e.message),
  );
  assert.throws(
    () => parseResolvedConfig(text + 'extra: 1\n', 'run/config.yaml'),
    (e: unknown) => e instanceof VdsError && e.key === 'extra' && /unknown key/.test(e.message),
  );
});

test('a resolved config is taken as written: nothing derived', () => {
  const c = structuredClone(defaultConfig());
  c.data.name = 'spirals';
  c.model.kind = 'conv'; // inconsistent: must be rejected, not silently re-derived
  assert.throws(() => parseResolvedConfig(configToYaml(c), 'x.yaml'), /kind "conv" needs image data/);
});

test('a resolved config written before vds 0.2 (no eval section) keeps the running statistics it was selected with', () => {
  const c = defaultConfig() as Partial<ReturnType<typeof defaultConfig>>;
  delete c.eval;
  const old = parseResolvedConfig(configToYaml(c as ReturnType<typeof defaultConfig>), 'old/config.yaml');
  assert.deepEqual(old.eval, { statistics: 'running', calibrationBatches: 10, calibrationBatchSize: null });
  assert.deepEqual(parseResolvedConfig(configToYaml(defaultConfig()), 'new/config.yaml').eval, defaultConfig().eval);
  // a config that has an eval section is read as written: a broken one is an error, not silently replaced
  assert.throws(() => parseResolvedConfig(configToYaml(defaultConfig()).replace('statistics: precise', 'statistics: exact'), 'bad.yaml'), (e: unknown) => e instanceof VdsError && /eval\.statistics/.test(e.format()) && /expected one of precise, running/.test(e.message));
});
