// Warnings: legal but odd choices are reported (with where they came from) and never stop a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.ts';

const warningsOf = (sets: string[]) => loadConfig({ sets }).warnings;

test('validationFraction 0: early stopping falls back to the training ELBO', () => {
  const w = warningsOf(['data.validationFraction=0']);
  assert.equal(w.length, 1);
  assert.match(w[0], /^data\.validationFraction: 0 holds out no validation split: early stopping .* falls back to the training ELBO/);
});

test('a validation split that rounds to nothing', () => {
  const [w] = warningsOf(['data.limit=4', 'data.validationFraction=0.1']);
  assert.match(w, /rounds to an empty validation split/);
});

test('warnings carry file:line when they come from a file', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'vds-rules-')), 'w.yaml');
  writeFileSync(file, 'seed: 3\ndata:\n  validationFraction: 0\n');
  const { warnings } = loadConfig({ file });
  assert.match(warnings[0], new RegExp(`^${file}:3: data\\.validationFraction: `));
});

test('settings that a choice makes unused', () => {
  const cases: [string[], RegExp][] = [
    [['model.method=fixed', 'prior.decay=0.5'], /^prior: ignored: a fixed-depth network has no depth posterior/],
    [['model.method=fixed', 'prune.threshold=0.9'], /^prune: ignored: fixed-depth networks are not pruned/],
    [['prior.kind=uniform', 'prior.decay=0.5'], /^prior\.decay: ignored: the uniform prior has no decay/],
    [['prune.rule=expected', 'prune.threshold=0.9'], /^prune\.threshold: ignored: rule "expected"/],
    [['train.lrGamma=0.5'], /^train\.lrGamma: ignored: no lrMilestones/],
    [['train.epochs=50', 'train.lrMilestones=[10,60]'], /^train\.lrMilestones: milestone 60 never reached in 50 epochs/],
    [['data.extra=true'], /^data\.extra: ignored: only svhn has an extra split/],
    [['data.spirals.noise=0.1'], /^data\.spirals: ignored: data\.name is "mnist", not spirals/],
    [['data.paths.train=a.mat'], /^data\.paths\.train: ignored: data\.name is "mnist", which does not read files by path/],
    [['model.width=30'], /^model\.width: ignored: width is the fc network's/],
    [['data.name=spirals', 'model.outerWidth=8'], /^model\.outerWidth: ignored/],
    [['model.maxDepth=0'], /^model\.maxDepth: with maxDepth 0 there is a single depth/],
    [['train.batchSize=0'], /^train\.batchSize: 0 means full batch/],
  ];
  for (const [sets, message] of cases) {
    const w = warningsOf(sets);
    assert.equal(w.length, 1, `${sets.join(' ')}: ${w.join(' | ')}`);
    assert.match(w[0], message, sets.join(' '));
  }
});

test('defaults left alone do not warn, even when unused', () => {
  assert.deepEqual(warningsOf(['model.method=fixed']), []);
  assert.deepEqual(warningsOf(['data.name=spirals', 'train.batchSize=0']), []);
  assert.deepEqual(warningsOf(['data.name=svhn', 'data.extra=true']), []);
});
